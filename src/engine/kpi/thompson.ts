import type { Rng } from '../rng.js';
import { arrivalCurve } from './delay.js';
import { isCountMetric, isRateMetric, rateScale, scoreOf, successes, valueOf } from './metric.js';
import type { EntryPosterior, HourStats, KpiMetric, KpiModel, KpiRunInput } from './model.js';
import { sampleBeta, sampleGamma, sampleNormal } from './sampling.js';

/**
 * Posteriors are tempered: drawn as if the evidence were up to this many times stronger (variance
 * divided by it) on a link of SHARPENING_REFERENCE_ENTRIES entries or fewer. Plain Thompson sampling
 * keeps exploring entries whose difference cannot be told apart within a link's lifetime; shrinking
 * the posterior variance is the standard remedy (Chapelle & Li, "An Empirical Evaluation of Thompson
 * Sampling", NIPS 2011), and bench/kpi measures it.
 */
export const POSTERIOR_SHARPENING = 16;

/**
 * The number of entries at which sharpening is measured (see sharpeningFor). Links with more
 * entries are sharpened sooner and further: every entry's honest uncertainty costs clicks, and
 * twenty entries cost four times what five do.
 */
const SHARPENING_REFERENCE_ENTRIES = 5;

/**
 * How much an entry's posterior is sharpened: by its own successes (scaled by the link's entries
 * over SHARPENING_REFERENCE_ENTRIES), from 1 (the honest posterior) up to POSTERIOR_SHARPENING, a
 * ceiling that grows with the square of that ratio on links with more entries. Sharpening a
 * posterior built on one or two conversions would treat luck as certainty: an entry that happened
 * to convert nothing in its first hundred clicks would draw as if it had failed in sixteen hundred,
 * and never be tried again (bench/kpi saw a 0.4 % entry starved for the whole run in a quarter of
 * its seeds). With thin evidence the draw stays as wide as the evidence honestly is. The higher
 * ceiling lets a link of twenty entries stop spending clicks on entries that are well measured and
 * merely close to the best (bench/kpi many-entries: 3.5 ± 1.2 fewer conversions lost over 400
 * seeds than with the ceiling of sixteen; a linear ceiling gained 1.3 ± 1.2).
 */
export function sharpeningFor(successes: number, entryCount: number): number {
  const scale = entryCount / SHARPENING_REFERENCE_ENTRIES;
  const ceiling = POSTERIOR_SHARPENING * Math.max(1, scale * scale);
  return Math.min(ceiling, Math.max(1, successes * scale));
}

/**
 * The signed root of the likelihood-ratio statistic beyond which an entry's history counts as
 * changed. Every entry's history is split at every hour on every run, so the threshold is high
 * enough to keep false alarms rare across all those tests; the likelihood ratio (not a normal z)
 * stays calibrated for entries with only a handful of clicks or conversions on one side.
 */
const CHANGE_Z = 4.5;

/** An entry's hour with its clicks delay-corrected: what both the change test and the posterior read. */
interface CorrectedHour {
  ageMs: number;
  successes: number;
  /** Clicks weighted by the share of their conversions expected to have arrived. */
  exposure: number;
  value: number;
}

/** An entry's evidence: the sums over the hours it keeps. */
interface Evidence {
  successes: number;
  exposure: number;
  value: number;
}

function correctedHours(metric: KpiMetric, hours: readonly HourStats[], arrived: (ageMs: number) => number): CorrectedHour[] {
  const counted = isCountMetric(metric);
  return hours.map((hour) => {
    const ageMs = Math.max(0, hour.ageMs);
    const wins = successes(metric, hour);
    // Never fewer effective clicks than successes where the rate is a proportion.
    const exposure = hour.clicks * arrived(ageMs);
    return { ageMs, successes: wins, exposure: counted ? exposure : Math.max(exposure, wins), value: valueOf(metric, hour) };
  });
}

/** Sums the hours younger than `sinceMs` (all of them when null). */
function evidenceOf(hours: readonly CorrectedHour[], sinceMs: number | null): Evidence {
  const sum: Evidence = { successes: 0, exposure: 0, value: 0 };
  for (const hour of hours) {
    if (sinceMs !== null && hour.ageMs >= sinceMs) continue;
    sum.successes += hour.successes;
    sum.exposure += hour.exposure;
    sum.value += hour.value;
  }
  return sum;
}

/** Binomial log-likelihood of `x` successes in `n` trials at rate `p` (0 · log 0 = 0). */
function logLikelihood(x: number, n: number, p: number): number {
  return (x > 0 ? x * Math.log(p) : 0) + (n - x > 0 ? (n - x) * Math.log(1 - p) : 0);
}

/** Poisson log-likelihood (up to a constant) of `x` counts over an exposure `n` at rate `r`. */
function countLogLikelihood(x: number, n: number, r: number): number {
  return (x > 0 ? x * Math.log(r) : 0) - r * n;
}

/**
 * How strongly two stretches of an entry's history disagree on its rate: the root of the
 * two-binomial (for counts, two-Poisson) likelihood-ratio statistic (one rate for both against one rate each).
 */
function changeStatistic(a: Evidence, b: Evidence, counted: boolean): number {
  if (a.exposure < 1 || b.exposure < 1) return 0;
  const pooled = (a.successes + b.successes) / (a.exposure + b.exposure);
  if (!(pooled > 0 && (counted || pooled < 1))) return 0;
  const ll = counted ? countLogLikelihood : logLikelihood;
  const own = (e: Evidence): number => ll(e.successes, e.exposure, Math.min(counted ? Infinity : 1 - 1e-12, Math.max(1e-12, e.successes / e.exposure)));
  const ratio = own(a) + own(b) - ll(a.successes, a.exposure, pooled) - ll(b.successes, b.exposure, pooled);
  return Math.sqrt(Math.max(0, 2 * ratio));
}

/**
 * The age (ms) since which an entry's rate is clearly not what it was before, or null. The history
 * is split between every two of its hours, younger against older; of the splits that disagree
 * beyond CHANGE_Z, the one that disagrees most is where the rate changed. Locating the change to the
 * hour keeps all the evidence since then, however long ago it was: testing only a few fixed spans
 * kept the last day at most, so a day after a change the link lost the evidence that had settled
 * it and re-explored (bench/kpi swap). Hourly counts are not faded, only delay-corrected; the sums
 * from before the history are (foldEarlier), and take part as one more, oldest hour.
 */
function changeAge(hours: readonly CorrectedHour[], counted: boolean): number | null {
  const byAge = [...hours].sort((a, b) => a.ageMs - b.ageMs);
  const total = evidenceOf(byAge, null);
  const younger: Evidence = { successes: 0, exposure: 0, value: 0 };
  let strongest = CHANGE_Z;
  let age: number | null = null;
  for (const [i, hour] of byAge.entries()) {
    const next = byAge[i + 1];
    if (next === undefined) break;
    younger.successes += hour.successes;
    younger.exposure += hour.exposure;
    const older: Evidence = { successes: total.successes - younger.successes, exposure: total.exposure - younger.exposure, value: 0 };
    const statistic = changeStatistic(younger, older, counted);
    if (statistic > strongest) {
      strongest = statistic;
      age = next.ageMs;
    }
  }
  return age;
}

export interface ThompsonFit {
  readonly posteriors: EntryPosterior[];
  /** Per entry id, the delay-corrected clicks the posterior was fitted with (since the last change). */
  readonly effective: Map<number, number>;
}

/**
 * Per-entry posteriors. The success rate is Beta with an empirical-Bayes prior centred on the
 * link's pooled rate and worth about one success, so an entry with little traffic starts where its
 * siblings are (not at 50 %). Exposure is delay-corrected, so conversions still on their way are not
 * counted as failures: without that, whichever entry received the most recent traffic would look
 * worst. Value metrics add a normal posterior of the value per success, shrunk toward the pooled
 * mean with a spread of the same size: only sums are known, not each conversion's value.
 *
 * Every hour of the history counts in full while the link's rates hold, and the time before it
 * (`input.earlier`, faded with age) as one more, oldest hour: fading the history to follow
 * drift re-explores entries that were already told apart, which costs most on links with many
 * close entries. Instead, when any entry's rate clearly changed, every entry keeps only the hours
 * since that change. Offers on one link tend to change together (a swap, a new campaign); an entry
 * that stopped receiving traffic long ago would otherwise never be tried again, however good it
 * became, while with only its recent hours it falls back to the prior and gets re-explored.
 * Without hourly data, the window totals count in full.
 */
export function fitPosteriors(input: KpiRunInput): ThompsonFit {
  const { metric } = input.settings;
  const counted = isCountMetric(metric);
  const arrived = arrivalCurve(input.conversionDelaysMs);
  const statsOf = new Map(input.stats.map((s) => [s.entryId, s]));
  const { earlier } = input;
  const earlierSums = new Map(earlier?.outcomes.entries.map((e) => [e.entryId, e]) ?? []);
  const hoursOf = new Map<number, CorrectedHour[]>();
  // The youngest change on the link: the regime every entry's evidence is read from.
  let sinceMs: number | null = null;
  for (const entry of input.entries) {
    const before = earlierSums.get(entry.id);
    // The time before the history is its oldest hour: in the change test, and cut by a change like any other.
    const raw = [...(statsOf.get(entry.id)?.hours ?? []), ...(before && earlier ? [{ ...before, ageMs: earlier.ageMs }] : [])];
    const hours = correctedHours(metric, raw, arrived);
    hoursOf.set(entry.id, hours);
    const age = changeAge(hours, counted);
    if (age !== null && (sinceMs === null || age < sinceMs)) sinceMs = age;
  }
  const evidence = new Map<number, Evidence>();
  const pooled: Evidence = { successes: 0, exposure: 0, value: 0 };
  for (const entry of input.entries) {
    const stats = statsOf.get(entry.id);
    const hours = hoursOf.get(entry.id) ?? [];
    let seen: Evidence;
    if (hours.length > 0) seen = evidenceOf(hours, sinceMs);
    else if (stats) {
      const wins = successes(metric, stats);
      seen = { successes: wins, exposure: counted ? stats.clicks : Math.max(stats.clicks, wins), value: valueOf(metric, stats) };
    } else continue;
    evidence.set(entry.id, seen);
    pooled.successes += seen.successes;
    pooled.exposure += seen.exposure;
    pooled.value += seen.value;
  }
  const pooledRate = (pooled.successes + 0.5) / (pooled.exposure + 1);
  // Beta: one prior success against this many failures; Gamma (counts): one count over this exposure.
  const priorBeta = counted ? 1 / pooledRate : Math.max(1, (1 - pooledRate) / pooledRate);
  const pooledMean = pooled.successes > 0 ? pooled.value / pooled.successes : 1;
  const spread = Math.max(Math.abs(pooledMean), 1e-6);
  const posteriors = input.entries.map((entry): EntryPosterior => {
    const seen = evidence.get(entry.id) ?? { successes: 0, exposure: 0, value: 0 };
    const temper = sharpeningFor(seen.successes, input.entries.length);
    const alpha = temper * (1 + seen.successes);
    const beta = temper * (priorBeta + (counted ? seen.exposure : Math.max(0, seen.exposure - seen.successes)));
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

/**
 * The posteriors a stored thompson model routes with. Before events per click had a Gamma
 * posterior, evr models held Beta(alpha, beta) posteriors of a proportion; read as Gamma shape and
 * rate, an entry near one event per click looked like thousands of percent and goal mode steered
 * away from it until the next run. Such a posterior becomes the Gamma of the same mean,
 * Gamma(alpha, alpha + beta).
 */
export function posteriorsInForce(model: Extract<KpiModel, { algorithm: 'thompson' }>): readonly EntryPosterior[] {
  if (!isCountMetric(model.metric) || model.rate_posterior === 'gamma') return model.posteriors;
  return model.posteriors.map((p) => ({ ...p, beta: p.alpha + p.beta }));
}

/** One posterior draw of the metric per click, in the metric's units (rates in percent). */
export function sampleMetric(metric: KpiMetric, posterior: EntryPosterior, rng: Rng): number {
  const rate = isCountMetric(metric) ? sampleGamma(posterior.alpha, rng) / posterior.beta : sampleBeta(posterior.alpha, posterior.beta, rng);
  if (posterior.valueMean === null) return rate * rateScale(metric);
  return rate * (posterior.valueMean + (posterior.valueSd ?? 0) * sampleNormal(rng));
}

/** The posterior mean of the metric per click. */
export function meanMetric(metric: KpiMetric, posterior: EntryPosterior): number {
  const rate = isCountMetric(metric) ? posterior.alpha / posterior.beta : posterior.alpha / (posterior.alpha + posterior.beta);
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
