const HOUR_MS = 3_600_000;

/**
 * Scheduled runs happen in slots aligned to the UTC wall clock: with a frequency of 6 hours the
 * slots start at 00:00, 06:00, 12:00 and 18:00 UTC. Every process computes the same slot for the
 * same moment, which is what lets the (link, slot) unique index fence duplicate runs.
 */
export function slotStartMs(nowMs: number, frequencyHours: number): number {
  const frequencyMs = frequencyHours * HOUR_MS;
  return Math.floor(nowMs / frequencyMs) * frequencyMs;
}

/** The slot a link should run for now, or null when the current slot began before its epoch. */
export function dueSlotMs(nowMs: number, frequencyHours: number, epochStartedMs: number): number | null {
  const slot = slotStartMs(nowMs, frequencyHours);
  return slot >= epochStartedMs ? slot : null;
}

/**
 * When the link's next run is due: the current slot if it is due and has no run yet (it runs at
 * the scheduler's next tick), otherwise the first later slot that starts inside the epoch.
 */
export function nextRunAtMs(nowMs: number, frequencyHours: number, epochStartedMs: number, currentSlotHasRun: boolean): number {
  const frequencyMs = frequencyHours * HOUR_MS;
  const current = slotStartMs(nowMs, frequencyHours);
  if (current >= epochStartedMs && !currentSlotHasRun) return current;
  const earliest = Math.max(current + frequencyMs, epochStartedMs);
  return Math.ceil(earliest / frequencyMs) * frequencyMs;
}

/** The run's window: the lookback before the slot, cut to the current epoch (SPEC §5). */
export function runWindowMs(slotMs: number, lookbackHours: number, epochStartedMs: number): { fromMs: number; toMs: number } {
  return { fromMs: Math.max(slotMs - lookbackHours * HOUR_MS, epochStartedMs), toMs: slotMs };
}
