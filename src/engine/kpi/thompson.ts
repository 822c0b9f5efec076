import type { Rng } from '../rng.js';
import { arrivalCurve } from './delay.js';
import { isRateMetric, rateScale, scoreOf, successes, valueOf } from './metric.js';
import type { EntryPosterior, EntryWindowStats, KpiMetric, KpiRunInput } from './model.js';
import { sampleBeta, sampleNormal } from './sampling.js';

const HOUR_MS = 3_600_000;

/**
 * Traffic fades with a half-life of this many lookbacks: the last lookback counts at least
 * 2^(−1/HALF_LIFE_LOOKBACKS), older hours of the epoch less and less. Memory beyond the window keeps
 * what was learnt about entries that stopped receiving traffic; fading keeps the model able to
 * notice that rates changed.
 */
export const HALF_LIFE_LOOKBACKS = 1.5;

/**
 * Posteriors are tempered: drawn as if the evidence were this many times stronger (variance
 * divided by it). Plain Thompson sampling keeps exploring entries whose difference cannot be told
 * apart within a link's lifetime; shrinking the posterior variance is the standard remedy
 * (Chapelle & Li, "An Empirical Evaluation of Thompson Sampling", NIPS 2011), and bench/kpi measures it.
 */
export const POSTERIOR_SHARPENING = 16;

/** An entry's evidence after fading and the delay correction. */
interface Evidence {
  successes: number;
  /** Clicks weighted by fading and by the share of their conversions expected to have arrived. */
  exposure: number;
  value: number;
}

/**
 * Sums an entry's hours, each weighted 2^(−age / half-life), its clicks also by the share of their
 * conversions that had time to arrive. When the last lookback's rate has `changed` from the earlier
 * one, only the last lookback counts. Without hourly data, the window totals count in full.
 */
function evidenceOf(metric: KpiMetric, stats: EntryWindowStats, arrived: (ageMs: number) => number, halfLifeMs: number, recentMs: number): Evidence {
  if (stats.hours.length === 0) {
    const wins = successes(metric, stats);
    return { successes: wins, exposure: Math.max(stats.clicks, wins), value: valueOf(metric, stats) };
  }
  const recent: Evidence = { successes: 0, exposure: 0, value: 0 };
  const older: Evidence = { successes: 0, exposure: 0, value: 0 };
  const raw = { recent: { successes: 0, exposure: 0 }, older: { successes: 0, exposure: 0 } };
  for (const hour of stats.hours) {
    const ageMs = Math.max(0, hour.ageMs);
    const weight = Math.pow(0.5, ageMs / halfLifeMs);
    const wins = successes(metric, hour);
    // Never fewer effective clicks than successes: the rate stays a proportion.
    const exposure = Math.max(hour.clicks * arrived(ageMs), wins);
    const into = ageMs < recentMs ? recent : older;
    into.successes += weight * wins;
    into.exposure += weight * exposure;
    into.value += weight * valueOf(metric, hour);
    const counts = ageMs < recentMs ? raw.recent : raw.older;
    counts.successes += wins;
    counts.exposure += exposure;
  }
  if (changed(raw.recent, raw.older)) return recent;
  return { successes: recent.successes + older.successes, exposure: recent.exposure + older.exposure, value: recent.value + older.value };
}

/** How many standard errors apart the recent and the older rate must be to call it a change. */
const CHANGE_Z = 3;

/**
 * Whether an entry's rate over the last lookback differs from its earlier rate beyond chance (a
 * two-proportion z-test on unfaded, delay-corrected counts). Fading alone would take about a
 * half-life to forget an offer that stopped converting; a detected change forgets at once.
 */
function changed(a: { successes: number; exposure: number }, b: { successes: number; exposure: number }): boolean {
  if (a.exposure < 1 || b.exposure < 1) return false;
  const pa = a.successes / a.exposure;
  const pb = b.successes / b.exposure;
  const p = (a.successes + b.successes) / (a.exposure + b.exposure);
  const se = Math.sqrt(p * (1 - p) * (1 / a.exposure + 1 / b.exposure));
  return se > 0 && Math.abs(pa - pb) / se > CHANGE_Z;
}

export interface ThompsonFit {
  readonly posteriors: EntryPosterior[];
  /** Per entry id, the faded, delay-corrected clicks the posterior was fitted with. */
  readonly effective: Map<number, number>;
}

/**
 * Per-entry posteriors. The success rate is Beta with an empirical-Bayes prior centred on the
 * link's pooled rate and worth about one success, so an entry with little traffic starts where its
 * siblings are (not at 50 %). Exposure is delay-corrected, so conversions still on their way are not
 * counted as failures: without that, whichever entry received the most recent traffic would look
 * worst. Value metrics add a normal posterior of the value per success, shrunk toward the pooled
 * mean with a spread of the same size: only sums are known, not each conversion's value.
 */
export function fitPosteriors(input: KpiRunInput): ThompsonFit {
  const { metric, lookbackHours } = input.settings;
  const arrived = arrivalCurve(input.conversionDelaysMs);
  const halfLifeMs = HALF_LIFE_LOOKBACKS * lookbackHours * HOUR_MS;
  const statsOf = new Map(input.stats.map((s) => [s.entryId, s]));
  const evidence = new Map<number, Evidence>();
  const pooled: Evidence = { successes: 0, exposure: 0, value: 0 };
  for (const entry of input.entries) {
    const stats = statsOf.get(entry.id);
    if (!stats) continue;
    const seen = evidenceOf(metric, stats, arrived, halfLifeMs, lookbackHours * HOUR_MS);
    evidence.set(entry.id, seen);
    pooled.successes += seen.successes;
    pooled.exposure += seen.exposure;
    pooled.value += seen.value;
  }
  const pooledRate = (pooled.successes + 0.5) / (pooled.exposure + 1);
  const priorBeta = Math.max(1, (1 - pooledRate) / pooledRate);
  const pooledMean = pooled.successes > 0 ? pooled.value / pooled.successes : 1;
  const spread = Math.max(Math.abs(pooledMean), 1e-6);
  const temper = POSTERIOR_SHARPENING;
  const posteriors = input.entries.map((entry): EntryPosterior => {
    const seen = evidence.get(entry.id) ?? { successes: 0, exposure: 0, value: 0 };
    const alpha = temper * (1 + seen.successes);
    const beta = temper * (priorBeta + Math.max(0, seen.exposure - seen.successes));
    if (isRateMetric(metric)) return { entryId: entry.id, alpha, beta, valueMean: null, valueSd: null };
    return {
      entryId: entry.id,
      alpha,
      beta,
      valueMean: (seen.value + pooledMean) / (seen.successes + 1),
      valueSd: spread / Math.sqrt(temper * (seen.successes + 1)),
    };
  });
  return { posteriors, effective: new Map([...evidence].map(([id, e]) => [id, e.exposure])) };
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
