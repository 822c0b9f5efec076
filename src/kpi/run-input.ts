import type { KpiRunRecord, KpiStateRecord } from '../domain/kpi.js';
import {
  KPI_HISTORY_LOOKBACKS, earlierOf, foldEarlier, runStep,
  type AgedHour, type EntryWindowStats, type HourStats, type Outcomes, type KpiEntryRef, type KpiRunInput, type KpiRunResult, type KpiSettingsView,
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
  // Thompson learns from a longer history; the window's totals are its most recent part.
  const historyFromMs = Math.max(slotMs - KPI_HISTORY_LOOKBACKS * settings.lookbackHours * HOUR_MS, epochStartedMs);
  const historyFrom = iso(historyFromMs);
  const [byEntry, clicksInEpoch, delays] = await Promise.all([
    readHourlyOutcomes(stats, smartLinkId, historyFrom, windowTo),
    countEpochClicks(store.kpi, stats, state, windowTo),
    stats.conversionDelaysMs(smartLinkId, DELAY_SAMPLE_SIZE),
  ]);
  // The age of an hour's clicks is taken at the middle of the part of the hour that is read.
  const ageOf = (hour: string): number => {
    const hourMs = Date.parse(hour);
    return nowMs - (Math.max(hourMs, historyFromMs) + Math.min(hourMs + HOUR_MS, window.toMs)) / 2;
  };
  // Only the link's current entries: clicks of removed entries belong to an earlier epoch anyway.
  const windowStats: EntryWindowStats[] = subject.entries.flatMap((entry) => {
    const hours = [...(byEntry.get(entry.id)?.entries() ?? [])].map(([hour, sums]): [string, HourStats] => [hour, { ageMs: ageOf(hour), ...sums }]);
    if (hours.length === 0) return [];
    // The window starts on an hour boundary unless the epoch cuts it, and then the history starts there too.
    const inWindow = hours.filter(([hour]) => Date.parse(hour) + HOUR_MS > window.fromMs).map(([, row]) => row);
    const sum = (pick: (row: HourStats) => number) => inWindow.reduce((total, row) => total + pick(row), 0);
    return [{
      entryId: entry.id,
      clicks: sum((r) => r.clicks),
      conversions: sum((r) => r.conversions),
      events: sum((r) => r.events),
      revenueMicros: sum((r) => r.revenueMicros),
      payoutMicros: sum((r) => r.payoutMicros),
      hours: hours.map(([, row]) => row),
    }];
  });
  // A run that will not store a new model (still collecting, or keeping the one in force) has nowhere
  // to carry the sums: reading them would be wasted.
  const computes = runStep({ settings, clicksInEpoch, stats: windowStats, previous: state.model }) === 'compute';
  const earlier = settings.algorithm === 'thompson' && computes ? await readEarlier(stats, subject, historyFromMs) : null;
  return {
    input: { settings, entries: subject.entries, stats: windowStats, conversionDelaysMs: delays, clicksInEpoch, previous: state.model, earlier },
    windowFrom,
    windowTo,
  };
}

type OutcomeSums = { -readonly [K in keyof Outcomes]: Outcomes[K] };

/** The link's routed clicks in [from, to) and what they brought, per entry and UTC hour (ISO of its start). */
async function readHourlyOutcomes(stats: KpiStatsReader, smartLinkId: number, from: string, to: string): Promise<Map<number, Map<string, OutcomeSums>>> {
  const [clickHours, conversionHours] = await Promise.all([
    stats.clickHours(smartLinkId, from, to),
    stats.conversionHours(smartLinkId, from, to),
  ]);
  const byEntry = new Map<number, Map<string, OutcomeSums>>();
  const hourOf = (entryId: number, hour: string): OutcomeSums => {
    let hours = byEntry.get(entryId);
    if (!hours) byEntry.set(entryId, (hours = new Map()));
    let row = hours.get(hour);
    if (!row) hours.set(hour, (row = { clicks: 0, conversions: 0, events: 0, revenueMicros: 0, payoutMicros: 0 }));
    return row;
  };
  for (const { entryId, hour, clicks } of clickHours) hourOf(entryId, hour).clicks += clicks;
  for (const { entryId, hour, ...outcomes } of conversionHours) {
    const row = hourOf(entryId, hour);
    row.conversions += outcomes.conversions;
    row.events += outcomes.events;
    row.revenueMicros += outcomes.revenueMicros;
    row.payoutMicros += outcomes.payoutMicros;
  }
  return byEntry;
}

/**
 * The epoch before the history (see EarlierOutcomes): what the model in force carries, plus the
 * hours that aged out of the history since, read once each. Sums reaching into the history (the
 * lookback grew since) are read again from the epoch's start, so that no hour counts twice.
 */
async function readEarlier(stats: KpiStatsReader, subject: RunSubject, historyFromMs: number): Promise<KpiRunInput['earlier']> {
  const epochStartedMs = Date.parse(subject.state.epoch_started_at);
  if (historyFromMs <= epochStartedMs) return null;
  const model = earlierOf(subject.state.model);
  const carried = model !== null && Date.parse(model.until) <= historyFromMs ? model : null;
  const from = carried === null ? subject.state.epoch_started_at : carried.until;
  const byEntry = Date.parse(from) < historyFromMs ? await readHourlyOutcomes(stats, subject.smartLinkId, from, iso(historyFromMs)) : new Map<number, Map<string, OutcomeSums>>();
  const aged = [...byEntry].flatMap(([entryId, hours]) => [...hours].map(([hour, sums]): AgedHour => (
    { entryId, endMs: Math.min(Date.parse(hour) + HOUR_MS, historyFromMs), ...sums }
  )));
  return { outcomes: foldEarlier(carried, aged, iso(historyFromMs)), ageMs: subject.nowMs - historyFromMs };
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
    // A kept model may be of the algorithm set before; the line names the one that routes.
    algorithm: result.model?.algorithm ?? settings.algorithm,
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
