import {
  KPI_HISTORY_LOOKBACKS, earlierOf, foldEarlier,
  type AgedHour, type EntryWindowStats, type HourStats, type Outcomes, type KpiEntryRef, type KpiModel, type KpiRunInput, type KpiSettingsView,
} from '../../src/engine/index.js';
import { HOUR_MS, START_MS } from './world.js';

const MICROS = 1_000_000;

type Sums = { -readonly [K in keyof Outcomes]: Outcomes[K] };

/** One arrived conversion (and its post-conversion event) added to an hour's sums, if the hour is read. */
function countConversion(sums: Sums | undefined, revenueMicros: number, payoutMicros: number): void {
  if (sums === undefined) return;
  sums.conversions++;
  sums.events++;
  sums.revenueMicros += revenueMicros;
  sums.payoutMicros += payoutMicros;
}
/** The delay model reads this many of the latest arrived conversions, as the scheduler does (DELAY_SAMPLE_SIZE in src/kpi/run-input.ts). */
export const DELAY_HISTORY = 2000;


/**
 * What the tracker of one simulated link knows: clicks per entry and hour, and conversions with
 * the moment they arrive. A run sees only what has arrived by then, exactly as the real scheduler
 * reading the store would; conversions still on their way are invisible.
 */
export class Tracker {
  private readonly clicksByHour: Int32Array;
  private clicksInEpoch = 0;
  // Conversions as parallel arrays: a run scans them all, and there are only thousands.
  private readonly convClickMs: number[] = [];
  private readonly convArrivalMs: number[] = [];
  private readonly convEntry: number[] = [];
  private readonly convRevenueMicros: number[] = [];
  private readonly convPayoutMicros: number[] = [];

  constructor(private readonly entryCount: number, hours: number) {
    this.clicksByHour = new Int32Array(Math.ceil(hours + 1) * entryCount);
  }

  /** A click at `atMs` (since the epoch start) routed to entry index `entry`, or to none (-1). */
  recordClick(entry: number, atMs: number): void {
    this.clicksInEpoch++;
    if (entry < 0) return;
    const index = Math.floor(atMs / HOUR_MS) * this.entryCount + entry;
    this.clicksByHour[index] = (this.clicksByHour[index] ?? 0) + 1;
  }

  recordConversion(entry: number, clickMs: number, arrivalMs: number, revenue: number, payout: number): void {
    this.convClickMs.push(clickMs);
    this.convArrivalMs.push(arrivalMs);
    this.convEntry.push(entry);
    this.convRevenueMicros.push(Math.round(revenue * MICROS));
    this.convPayoutMicros.push(Math.round(payout * MICROS));
  }

  /**
   * The input of a run at `nowMs` (a whole hour): the window is the last `lookbackHours` ∩ the
   * epoch (which starts at 0) for the totals, `KPI_HISTORY_LOOKBACKS` lookbacks of hourly history for
   * thompson, and only conversions arrived by `nowMs`. For thompson, the hours before the history
   * are folded into the previous model's earlier sums as the scheduler folds them.
   * Every conversion also counts as one post-conversion event (so `evr` behaves like `cvr`).
   */
  runInput(nowMs: number, settings: KpiSettingsView, entries: readonly KpiEntryRef[], previous: KpiModel | null): KpiRunInput {
    const n = this.entryCount;
    const nowHour = Math.round(nowMs / HOUR_MS);
    const fromHour = Math.max(0, nowHour - settings.lookbackHours);
    const historyFromHour = Math.max(0, nowHour - KPI_HISTORY_LOOKBACKS * settings.lookbackHours);
    const fromMs = fromHour * HOUR_MS;
    const rows = Array.from({ length: n }, () => ({
      clicks: 0, conversions: 0, revenueMicros: 0, payoutMicros: 0,
      hours: new Map<number, { -readonly [K in keyof HourStats]: HourStats[K] }>(),
    }));
    for (let hour = historyFromHour; hour < nowHour; hour++) {
      for (let i = 0; i < n; i++) {
        const clicks = this.clicksByHour[hour * n + i] ?? 0;
        if (clicks === 0) continue;
        const row = rows[i];
        if (row === undefined) continue;
        if (hour >= fromHour) row.clicks += clicks;
        // The middle of the hour stands for every click in it.
        row.hours.set(hour, { ageMs: nowMs - (hour + 0.5) * HOUR_MS, clicks, conversions: 0, events: 0, revenueMicros: 0, payoutMicros: 0 });
      }
    }
    // The hours that aged out of the history since the previous model's sums (all of them without one).
    const previousSums = settings.algorithm === 'thompson' ? earlierOf(previous) : null;
    const carriedHour = previousSums === null ? 0 : Math.round((Date.parse(previousSums.until) - START_MS) / HOUR_MS);
    // Sums reaching into the history (a longer lookback) are summed again from the epoch's start.
    const carried = carriedHour <= historyFromHour ? previousSums : null;
    const agedFromHour = carried === null ? 0 : carriedHour;
    // Per hour and entry index (hour * n + entry), as the scheduler reads them.
    const aged = new Map<number, { -readonly [K in keyof AgedHour]: AgedHour[K] }>();
    for (let hour = agedFromHour; hour < historyFromHour; hour++) {
      for (let i = 0; i < n; i++) {
        const clicks = this.clicksByHour[hour * n + i] ?? 0;
        if (clicks === 0) continue;
        const endMs = START_MS + (hour + 1) * HOUR_MS;
        aged.set(hour * n + i, { entryId: entries[i]?.id ?? 0, endMs, clicks, conversions: 0, events: 0, revenueMicros: 0, payoutMicros: 0 });
      }
    }
    const arrived: { arrivalMs: number; delayMs: number }[] = [];
    for (let c = 0; c < this.convArrivalMs.length; c++) {
      const arrivalMs = this.convArrivalMs[c] ?? Infinity;
      if (arrivalMs > nowMs) continue;
      const clickMs = this.convClickMs[c] ?? 0;
      arrived.push({ arrivalMs, delayMs: arrivalMs - clickMs });
      const clickHour = Math.floor(clickMs / HOUR_MS);
      const revenueMicros = this.convRevenueMicros[c] ?? 0;
      const payoutMicros = this.convPayoutMicros[c] ?? 0;
      if (clickHour >= agedFromHour && clickHour < historyFromHour) countConversion(aged.get(clickHour * n + (this.convEntry[c] ?? 0)), revenueMicros, payoutMicros);
      const row = rows[this.convEntry[c] ?? -1];
      if (row === undefined) continue;
      countConversion(row.hours.get(clickHour), revenueMicros, payoutMicros);
      if (clickMs < fromMs) continue;
      row.conversions++;
      row.revenueMicros += revenueMicros;
      row.payoutMicros += payoutMicros;
    }
    arrived.sort((a, b) => b.arrivalMs - a.arrivalMs);
    const stats: EntryWindowStats[] = [];
    rows.forEach((row, i) => {
      const entry = entries[i];
      if (row.hours.size === 0 || entry === undefined) return;
      const { hours, ...totals } = row;
      stats.push({ entryId: entry.id, events: row.conversions, ...totals, hours: [...hours.values()] });
    });
    return {
      settings,
      entries,
      stats,
      conversionDelaysMs: arrived.slice(0, DELAY_HISTORY).map((a) => a.delayMs),
      clicksInEpoch: this.clicksInEpoch,
      previous,
      earlier: settings.algorithm === 'thompson' && historyFromHour > 0
        ? {
          outcomes: foldEarlier(carried, aged.values(), new Date(START_MS + historyFromHour * HOUR_MS).toISOString()),
          ageMs: nowMs - historyFromHour * HOUR_MS,
        }
        : null,
    };
  }
}
