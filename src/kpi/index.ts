/** KPI optimisation around the pure engine: the scheduler, its slots and the epoch rules. */
export { KpiScheduler, KPI_LEASE, type KpiSchedulerOptions, type TickReport } from './scheduler.js';
export { countEpochClicks, slotDone } from './epoch-clicks.js';
export { kpiResetReason } from './reset-reason.js';
export { dueSlotMs, nextRunAtMs, runWindowMs, slotStartMs } from './slots.js';
