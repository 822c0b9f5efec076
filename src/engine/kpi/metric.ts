import { exactDecimal } from '../../domain/decimal.js';
import { MICROS_PER_UNIT } from '../../domain/money.js';
import type { KpiMetric, Outcomes } from './model.js';

/** Rate metrics are successes per click; the others are a success rate times a value per success (money). */
export const isRateMetric = (metric: KpiMetric): boolean => metric === 'cvr' || metric === 'evr' || metric === 'conversions';

/**
 * Events are counted, not had or not had: a click can bring several (200 % EVR is two events per
 * click), so their rate per click is a Poisson rate with a Gamma posterior, not a Beta proportion.
 */
export const isCountMetric = (metric: KpiMetric): boolean => metric === 'evr';

/** Rates are compared in percent (SPEC §5: a goal of 2 means 2 %); conversions per click as they are. */
export const rateScale = (metric: KpiMetric): number => (metric === 'cvr' || metric === 'evr' ? 100 : 1);

/** What counts as one success of a click: an event for `evr`, a base conversion otherwise. */
export const successes = (metric: KpiMetric, stats: Outcomes): number =>
  metric === 'evr' ? stats.events : stats.conversions;

/** The money a metric adds up, in micros (exact integers). */
function valueMicrosOf(metric: KpiMetric, stats: Outcomes): number {
  switch (metric) {
    case 'revenue':
    case 'rpc':
      return stats.revenueMicros;
    case 'payout':
    case 'epc':
      return stats.payoutMicros;
    case 'profit':
      return stats.revenueMicros - stats.payoutMicros;
    default:
      return 0;
  }
}

/** The money a metric adds up, in currency units. */
export const valueOf = (metric: KpiMetric, stats: Outcomes): number => valueMicrosOf(metric, stats) / MICROS_PER_UNIT;

/**
 * The metric per click (SPEC §5, research §6.2): rates in percent, absolute metrics divided by
 * clicks so that the entry already receiving traffic does not win on volume alone. Null without
 * clicks. One division of exact integers, so equal ratios give equal numbers: 0.30 over 3 clicks
 * and 0.10 over 1 both make 0.1, and a tie stays a tie (dividing a rounded 0.3 by 3 made
 * 0.09999999999999999, which lost it).
 */
export function metricPerClick(metric: KpiMetric, stats: Outcomes): number | null {
  if (stats.clicks <= 0) return null;
  if (isRateMetric(metric)) return (successes(metric, stats) * rateScale(metric)) / stats.clicks;
  return valueMicrosOf(metric, stats) / (stats.clicks * MICROS_PER_UNIT);
}

/**
 * The goal in force, of settings or of a stored model: a goal of 0 is no goal, as on the reference
 * platform, whose API sends 0 for "none"; steering to a metric of 0 would send every click to the
 * entry that converts least (models stored before this rule still carry it).
 */
export const goalOf = (holder: { readonly goal?: number | null }): number | null => (holder.goal ? holder.goal : null);

/** With a goal the best entry is the closest to it; without, the highest. */
export const scoreOf = (value: number, goal: number | null): number => (goal === null ? value : -Math.abs(value - goal));

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/**
 * The ranking score of an entry's window (SPEC §5): its metric per click, or with a goal the
 * negative distance to it. The distance is taken exactly, from the integer counts and the goal as
 * written, and rounded once: two entries as far below the goal as the other is above tie, and the
 * tie goes to more clicks (subtracting the goal from a rounded 33.3 % and a rounded 66.7 % left
 * 16.666666666666664 against 16.66666666666667, and the entry with fewer clicks won).
 */
export function scorePerClick(metric: KpiMetric, stats: Outcomes, goal: number | null): number | null {
  const value = metricPerClick(metric, stats);
  if (value === null || goal === null) return value;
  const rate = isRateMetric(metric);
  const numerator = rate ? successes(metric, stats) * rateScale(metric) : valueMicrosOf(metric, stats);
  const denominator = rate ? stats.clicks : stats.clicks * MICROS_PER_UNIT;
  if (!Number.isFinite(goal) || !Number.isSafeInteger(numerator) || !Number.isSafeInteger(denominator)) return scoreOf(value, goal);
  // The goal as written: 1.1 is 11/10.
  const { digits: goalNumerator, places } = exactDecimal(goal);
  const goalDenominator = 10n ** BigInt(places);
  let distance = BigInt(numerator) * goalDenominator - goalNumerator * BigInt(denominator);
  if (distance < 0n) distance = -distance;
  let over = BigInt(denominator) * goalDenominator;
  const common = gcd(distance, over);
  distance /= common;
  over /= common;
  return -(Number(distance) / Number(over));
}
