import type { Rng } from '../rng.js';
import { arrivalCurve } from './delay.js';
import { isRateMetric, rateScale, scoreOf, successes, valueOf } from './metric.js';
import type { EntryPosterior, EntryWindowStats, KpiMetric, KpiRunInput } from './model.js';
import { sampleBeta, sampleNormal } from './sampling.js';

/** Clicks weighted by the share of their conversions that had time to arrive. */
export function effectiveClicks(stats: EntryWindowStats, arrived: (ageMs: number) => number): number {
  if (stats.clickAges.length === 0) return stats.clicks;
  let total = 0;
  for (const bucket of stats.clickAges) total += bucket.clicks * arrived(Math.max(0, bucket.ageMs));
  return total;
}

export interface ThompsonFit {
  readonly posteriors: EntryPosterior[];
  /** Per entry id, the effective clicks the posterior was fitted with. */
  readonly effective: Map<number, number>;
}

/**
 * Per-entry posteriors from the window. The success rate is Beta with an empirical-Bayes prior
 * centred on the link's pooled rate and worth about one success, so a new or starved entry starts
 * where its siblings are (not at 50 %) and keeps a chance to be tried. Exposure is the
 * delay-corrected click count, so conversions still on their way are not counted as failures.
 * Value metrics add a normal posterior of the value per success, shrunk toward the pooled mean
 * with a spread of the same size: only sums are known, not each conversion's value.
 */
export function fitPosteriors(input: KpiRunInput): ThompsonFit {
  const { metric } = input.settings;
  const arrived = arrivalCurve(input.conversionDelaysMs);
  const statsOf = new Map(input.stats.map((s) => [s.entryId, s]));
  const effective = new Map<number, number>();
  let pooledSuccesses = 0;
  let pooledExposure = 0;
  let pooledValue = 0;
  for (const entry of input.entries) {
    const stats = statsOf.get(entry.id);
    if (!stats) continue;
    const wins = successes(metric, stats);
    // Never fewer effective clicks than successes: the rate stays a proportion.
    const exposure = Math.max(effectiveClicks(stats, arrived), wins);
    effective.set(entry.id, exposure);
    pooledSuccesses += wins;
    pooledExposure += exposure;
    pooledValue += valueOf(metric, stats);
  }
  const pooledRate = (pooledSuccesses + 0.5) / (pooledExposure + 1);
  const priorAlpha = 1;
  const priorBeta = Math.max(1, (1 - pooledRate) / pooledRate);
  const rateOnly = isRateMetric(metric);
  const pooledMean = pooledSuccesses > 0 ? pooledValue / pooledSuccesses : 1;
  const spread = Math.max(Math.abs(pooledMean), 1e-6);
  const posteriors = input.entries.map((entry): EntryPosterior => {
    const stats = statsOf.get(entry.id);
    const wins = stats ? successes(metric, stats) : 0;
    const exposure = effective.get(entry.id) ?? 0;
    const posterior = { entryId: entry.id, alpha: priorAlpha + wins, beta: priorBeta + Math.max(0, exposure - wins) };
    if (rateOnly) return { ...posterior, valueMean: null, valueSd: null };
    const value = stats ? valueOf(metric, stats) : 0;
    return {
      ...posterior,
      valueMean: (value + pooledMean) / (wins + 1),
      valueSd: spread / Math.sqrt(wins + 1),
    };
  });
  return { posteriors, effective };
}

/** One posterior draw of the metric per click, in the metric's units (rates in percent). */
export function sampleMetric(metric: KpiMetric, posterior: EntryPosterior, rng: Rng): number {
  const rate = sampleBeta(posterior.alpha, posterior.beta, rng);
  if (posterior.valueMean === null) return rate * rateScale(metric);
  return rate * (posterior.valueMean + (posterior.valueSd ?? 0) * sampleNormal(rng));
}

/** The posterior mean of the metric per click. */
export function meanMetric(metric: KpiMetric, posterior: EntryPosterior): number {
  const rate = posterior.alpha / (posterior.alpha + posterior.beta);
  return posterior.valueMean === null ? rate * rateScale(metric) : rate * posterior.valueMean;
}

/**
 * The share of clicks each entry would win if every entry were eligible, by Monte Carlo over the
 * posteriors (shown in the run record as the allocation; clicks themselves sample afresh).
 */
export function expectedShares(metric: KpiMetric, goal: number | null, posteriors: readonly EntryPosterior[], rng: Rng, draws: number): Map<number, number> {
  const wins = new Map<number, number>(posteriors.map((p) => [p.entryId, 0]));
  for (let i = 0; i < draws; i++) {
    let best: number | null = null;
    let bestScore = -Infinity;
    for (const posterior of posteriors) {
      const score = scoreOf(sampleMetric(metric, posterior, rng), goal);
      if (score > bestScore) {
        bestScore = score;
        best = posterior.entryId;
      }
    }
    if (best !== null) wins.set(best, (wins.get(best) ?? 0) + 1);
  }
  for (const [id, count] of wins) wins.set(id, count / draws);
  return wins;
}
