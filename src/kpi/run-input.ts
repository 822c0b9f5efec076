import type { KpiRunRecord, KpiStateRecord } from '../domain/kpi.js';
import type {
  ClickAgeBucket, EntryWindowStats, KpiEntryRef, KpiRunInput, KpiRunResult, KpiSettingsView,
} from '../engine/index.js';
import type { KpiRepo, KpiStatsReader } from '../ports/store.js';
import { countEpochClicks } from './epoch-clicks.js';
import { runWindowMs } from './slots.js';

const HOUR_MS = 3_600_000;
/** The delay model learns from this many of the link's latest approved base conversions. */
export const DELAY_SAMPLE_SIZE = 2000;

const iso = (ms: number) => new Date(ms).toISOString();

/** What one scheduled run is about: a link's entries and settings, its state, the slot and the time. */
export interface RunSubject {
  smartLinkId: number;
  settings: KpiSettingsView;
  entries: readonly KpiEntryRef[];
  state: KpiStateRecord;
  slotMs: number;
  /** When the run happens: click ages are measured from here. */
  nowMs: number;
}

export interface PreparedRun {
  input: KpiRunInput;
  windowFrom: string;
  windowTo: string;
}

/**
 * Reads the run's input from stored clicks and conversions (SPEC §5: this link's traffic only).
 * Traffic is bounded by the slot, so a run describes its slot whichever process computes it and
 * however late; conversions count as of the run, since they keep arriving after their clicks.
 */
export async function readRunInput(store: { kpi: KpiRepo; kpiStats: KpiStatsReader }, subject: RunSubject): Promise<PreparedRun> {
  const stats = store.kpiStats;
  const { smartLinkId, settings, state, slotMs, nowMs } = subject;
  const epochStartedMs = Date.parse(state.epoch_started_at);
  const window = runWindowMs(slotMs, settings.lookbackHours, epochStartedMs);
  const windowFrom = iso(window.fromMs);
  const windowTo = iso(window.toMs);
  const [hours, sums, clicksInEpoch, delays] = await Promise.all([
    stats.clickHours(smartLinkId, windowFrom, windowTo),
    stats.conversionSums(smartLinkId, windowFrom, windowTo),
    countEpochClicks(store.kpi, stats, state, windowTo),
    stats.conversionDelaysMs(smartLinkId, DELAY_SAMPLE_SIZE),
  ]);
  const byEntry = new Map<number, { clicks: number; ages: ClickAgeBucket[] }>();
  for (const { entryId, hour, clicks } of hours) {
    // The age of an hour's clicks is taken at the middle of the part of the hour inside the window.
    const hourMs = Date.parse(hour);
    const middleMs = (Math.max(hourMs, window.fromMs) + Math.min(hourMs + HOUR_MS, window.toMs)) / 2;
    const row = byEntry.get(entryId) ?? { clicks: 0, ages: [] };
    row.clicks += clicks;
    row.ages.push({ ageMs: nowMs - middleMs, clicks });
    byEntry.set(entryId, row);
  }
  const sumsOf = new Map(sums.map((s) => [s.entryId, s]));
  // Only the link's current entries: clicks of removed entries belong to an earlier epoch anyway.
  const windowStats: EntryWindowStats[] = subject.entries.flatMap((entry) => {
    const row = byEntry.get(entry.id);
    if (row === undefined) return [];
    const money = sumsOf.get(entry.id);
    return [{
      entryId: entry.id,
      clicks: row.clicks,
      conversions: money?.conversions ?? 0,
      events: money?.events ?? 0,
      revenueMicros: money?.revenueMicros ?? 0,
      payoutMicros: money?.payoutMicros ?? 0,
      clickAges: row.ages,
    }];
  });
  return {
    input: { settings, entries: subject.entries, stats: windowStats, conversionDelaysMs: delays, clicksInEpoch, previous: state.model },
    windowFrom,
    windowTo,
  };
}

/** The run-record line of a computed run. */
export function runRecordOf(
  subject: RunSubject,
  prepared: PreparedRun,
  result: KpiRunResult,
  previousWinnerEntryId: number | null,
): Omit<KpiRunRecord, 'id'> & { kind: 'run'; slot_at: string } {
  const { settings } = subject;
  return {
    smart_link_id: subject.smartLinkId,
    epoch: subject.state.epoch,
    kind: 'run',
    run_at: iso(subject.nowMs),
    slot_at: iso(subject.slotMs),
    window_from: prepared.windowFrom,
    window_to: prepared.windowTo,
    algorithm: settings.algorithm,
    metric: settings.metric,
    goal: settings.goal,
    phase: result.phase,
    clicks_in_epoch: prepared.input.clicksInEpoch,
    kept_previous: result.keptPrevious,
    entries: [...result.entries],
    model: result.model,
    winner_entry_id: result.winnerEntryId,
    previous_winner_entry_id: previousWinnerEntryId,
    reset_reason: null,
  };
}
