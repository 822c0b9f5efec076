import type { CapView } from '../../engine/index.js';
import { periodKeys, type CapPeriod, type PeriodKeys } from './period-key.js';

export type CapMetric = CapView['metric'];
export const PERIODS: readonly CapPeriod[] = ['daily', 'weekly', 'monthly', 'global'];

/** The counters of one offer (`o12`) or of one partner on an offer (`p12:7`). */
export const offerScope = (offerId: number) => `o${offerId}`;
export const partnerScope = (offerId: number, partnerId: number) => `p${offerId}:${partnerId}`;

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

  /** Whether any hard cap in `caps` is reached: `used >= limit` (a reached cap stops the next event). */
  hardCapReached(scope: string, caps: readonly CapView[], keys: PeriodKeys): boolean {
    for (const cap of caps) {
      if (cap.mode === 'hard' && this.used(scope, keys[cap.period], cap.metric) >= cap.limit) return true;
    }
    return false;
  }

  /**
   * Drops counters of periods that are over, judged in the zone `zoneOf(scope)` gives (undefined =
   * drop). Only earlier periods are over: after the clock steps back (an NTP correction, a host
   * behind), the period it left still holds what was counted there, and will be current again.
   * Keys of one kind sort by time (`day-2025-06-11`, `week-…`, `month-2025-06`).
   */
  prune(nowMs: number, zoneOf: (scope: string) => string | undefined): void {
    for (const [scope, byPeriod] of this.sums) {
      const zone = zoneOf(scope);
      const keys = zone === undefined ? undefined : periodKeys(nowMs, zone);
      const current = keys === undefined ? [] : [keys.daily, keys.weekly, keys.monthly];
      for (const periodKey of byPeriod.keys()) {
        if (periodKey === 'global') continue;
        const sameKind = current.find((key) => key.slice(0, key.indexOf('-')) === periodKey.slice(0, periodKey.indexOf('-')));
        if (sameKind === undefined || periodKey < sameKind) byPeriod.delete(periodKey);
      }
      if (byPeriod.size === 0) this.sums.delete(scope);
    }
  }
}
