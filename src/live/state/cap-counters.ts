import type { CapView } from '../../engine/index.js';
import { periodKeys, type CapPeriod, type PeriodKeys } from './period-key.js';

/** How far the clock may have stepped back for the period it left to be kept (see prune). */
export const CLOCK_STEP_MS = 3_600_000;
const CALENDAR_PERIODS = ['daily', 'weekly', 'monthly'] as const;

export type CapMetric = CapView['metric'];
export const PERIODS: readonly CapPeriod[] = ['daily', 'weekly', 'monthly', 'global'];

/** The counters of one offer (`o12`) or of one partner on an offer (`p12:7`). */
export const offerScope = (offerId: number) => `o${offerId}`;
export const partnerScope = (offerId: number, partnerId: number) => `p${offerId}:${partnerId}`;
/** The offer id an offerScope or partnerScope names. */
export const offerOfScope = (scope: string): number => Number.parseInt(scope.slice(1), 10);

type Sums = Record<CapMetric, number>;

/**
 * Sums per (scope, period, metric): clicks and conversions as counts, payout and revenue in micros.
 * Every event counts in all four periods, whatever caps exist, so a cap added mid-period sees the
 * period's traffic so far. Counters of past periods are dropped by `prune`. Nested maps rather than
 * one map of joined keys: a click adds to eight counters, and joining their keys was most of its cost.
 */
export class CapCounters {
  /** scope → period key → that period's sums. */
  private readonly sums = new Map<string, Map<string, Sums>>();

  used(scope: string, periodKey: string, metric: CapMetric): number {
    return this.sums.get(scope)?.get(periodKey)?.[metric] ?? 0;
  }

  /** Adds `amount` to the metric in each period of `keys` (only `periods` when given). */
  add(scope: string, keys: PeriodKeys, metric: CapMetric, amount: number, periods: readonly CapPeriod[] = PERIODS): void {
    if (amount === 0) return;
    let byPeriod = this.sums.get(scope);
    if (byPeriod === undefined) {
      if (amount < 0) return;
      this.sums.set(scope, (byPeriod = new Map()));
    }
    for (const period of periods) {
      let sums = byPeriod.get(keys[period]);
      if (sums === undefined) {
        // A release that arrives after its period was pruned has nothing left to undo.
        if (amount < 0) continue;
        byPeriod.set(keys[period], (sums = { clicks: 0, conversions: 0, payout: 0, revenue: 0 }));
      }
      sums[metric] += amount;
    }
  }

  /** The scopes holding counters of these offers, each with its offer: the offer's own and its partners' on it. */
  scopesOf(offerIds: ReadonlySet<number>): { scope: string; offerId: number }[] {
    return [...this.sums.keys()].map((scope) => ({ scope, offerId: offerOfScope(scope) })).filter(({ offerId }) => offerIds.has(offerId));
  }

  /** Forgets the daily, weekly and monthly sums of these offers' scopes, their partners' too (global sums stay). */
  dropCalendar(offerIds: ReadonlySet<number>): void {
    for (const [scope, byPeriod] of this.sums) {
      if (!offerIds.has(offerOfScope(scope))) continue;
      for (const periodKey of byPeriod.keys()) if (periodKey !== 'global') byPeriod.delete(periodKey);
      if (byPeriod.size === 0) this.sums.delete(scope);
    }
  }

  /** Whether any hard cap in `caps` is reached: `used >= limit` (a reached cap stops the next event). */
  hardCapReached(scope: string, caps: readonly CapView[], keys: PeriodKeys): boolean {
    for (const cap of caps) {
      if (cap.mode === 'hard' && this.used(scope, keys[cap.period], cap.metric) >= cap.limit) return true;
    }
    return false;
  }

  /**
   * Drops counters of periods that are over, judged in the zone `zoneOf(scope)` gives (undefined =
   * drop). The current period stays, and so does one that begins within CLOCK_STEP_MS: after the
   * clock steps back a little (an NTP correction) the period it left still holds what was counted
   * there, and will be current again soon. A period further ahead was counted in another zone (the
   * offer's caps time zone moved west), and the new zone's day of that date starts afresh.
   * Keys of one kind sort by time (`day-2025-06-11`, `week-…`, `month-2025-06`).
   */
  prune(nowMs: number, zoneOf: (scope: string) => string | undefined): void {
    // Once per zone: the period-key cache holds one minute, and two minutes asked for in turn
    // per scope would each push the other out, formatting dates twice for every scope.
    const byZone = new Map<string, { now: PeriodKeys; soon: PeriodKeys }>();
    const keysIn = (zone: string) => {
      let keys = byZone.get(zone);
      if (keys === undefined) byZone.set(zone, (keys = { now: periodKeys(nowMs, zone), soon: periodKeys(nowMs + CLOCK_STEP_MS, zone) }));
      return keys;
    };
    for (const [scope, byPeriod] of this.sums) {
      const zone = zoneOf(scope);
      const { now, soon } = zone === undefined ? { now: undefined, soon: undefined } : keysIn(zone);
      for (const periodKey of byPeriod.keys()) {
        if (periodKey === 'global') continue;
        const period = CALENDAR_PERIODS.find((p) => now?.[p].startsWith(periodKey.slice(0, periodKey.indexOf('-') + 1)));
        const kept = period !== undefined && now !== undefined && soon !== undefined && periodKey >= now[period] && periodKey <= soon[period];
        if (!kept) byPeriod.delete(periodKey);
      }
      if (byPeriod.size === 0) this.sums.delete(scope);
    }
  }
}
