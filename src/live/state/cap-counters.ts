import type { CapView } from '../../engine/index.js';
import { periodKeys, type CapPeriod, type PeriodKeys } from './period-key.js';

export type CapMetric = CapView['metric'];
export const PERIODS: readonly CapPeriod[] = ['daily', 'weekly', 'monthly', 'global'];

/** The counters of one offer (`o12`) or of one partner on an offer (`p12:7`). */
export const offerScope = (offerId: number) => `o${offerId}`;
export const partnerScope = (offerId: number, partnerId: number) => `p${offerId}:${partnerId}`;

const counterKey = (scope: string, periodKey: string, metric: CapMetric) => `${scope}|${periodKey}|${metric}`;

/**
 * Sums per (scope, period, metric): clicks and conversions as counts, payout and revenue in micros.
 * Every event counts in all four periods, whatever caps exist, so a cap added mid-period sees the
 * period's traffic so far. Counters of past periods are dropped by `prune`.
 */
export class CapCounters {
  private readonly sums = new Map<string, number>();

  used(scope: string, periodKey: string, metric: CapMetric): number {
    return this.sums.get(counterKey(scope, periodKey, metric)) ?? 0;
  }

  /** Adds `amount` to the metric in each period of `keys` (only `periods` when given). */
  add(scope: string, keys: PeriodKeys, metric: CapMetric, amount: number, periods: readonly CapPeriod[] = PERIODS): void {
    if (amount === 0) return;
    for (const period of periods) {
      const key = counterKey(scope, keys[period], metric);
      const current = this.sums.get(key);
      // A release that arrives after its period was pruned has nothing left to undo.
      if (current === undefined && amount < 0) continue;
      this.sums.set(key, (current ?? 0) + amount);
    }
  }

  /** Whether any hard cap in `caps` is reached: `used >= limit` (a reached cap stops the next event). */
  hardCapReached(scope: string, caps: readonly CapView[], keys: PeriodKeys): boolean {
    for (const cap of caps) {
      if (cap.mode === 'hard' && this.used(scope, keys[cap.period], cap.metric) >= cap.limit) return true;
    }
    return false;
  }

  /** Drops counters of periods that are over, judged in the zone `zoneOf(scope)` gives (undefined = drop). */
  prune(nowMs: number, zoneOf: (scope: string) => string | undefined): void {
    const current = new Map<string, PeriodKeys | undefined>();
    for (const key of this.sums.keys()) {
      const [scope = '', periodKey = ''] = key.split('|');
      if (periodKey === 'global') continue;
      let keys = current.get(scope);
      if (!current.has(scope)) {
        const zone = zoneOf(scope);
        keys = zone === undefined ? undefined : periodKeys(nowMs, zone);
        current.set(scope, keys);
      }
      if (keys === undefined || (keys.daily !== periodKey && keys.weekly !== periodKey && keys.monthly !== periodKey)) this.sums.delete(key);
    }
  }
}
