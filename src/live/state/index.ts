/** The embedded live state (caps counters, visitor memory); see README.md. */
export { MemoryLiveState, type MemoryLiveStateOptions } from './memory-live-state.js';
export { periodKey, periodKeys, localDate, type CapPeriod, type PeriodKeys } from './period-key.js';
export { prepareCapPeriods, prepareVisitorMemory, rebuildLiveState } from './rebuild.js';
