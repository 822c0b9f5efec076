/**
 * Informed optimisers: what an optimiser could reach with knowledge no real link has. Each knows
 * that every entry's conversion rate is one of the values the scenario uses (a prior uniform over
 * them), each entry's value per conversion and its exact click-to-conversion delay distribution,
 * and computes the exact posterior of every entry's rate from the conversions that have arrived.
 * They learn on the same schedule as the engine (after the collection threshold, every
 * `run_frequency_hours`), see the same visitors and route only to eligible entries.
 *
 * They are not a product strategy: they bound what the engine's thompson can be asked for. If an
 * optimiser that knows the rate set and the delays cannot bring a scenario's regret below some
 * ratio of ranking's, a real one, which must learn both, is not expected to either. The posterior
 * assumes the rates hold for the whole run, so in scenarios with `changes` they are no bound.
 */
import { DELAY_SIGMA, HOUR_MS, bestValue, phaseAt, streamRng, type Traffic, type World } from './world.js';
import type { StrategyOutcome } from './simulate.js';

/**
 * How an informed optimiser picks among the eligible entries after each update: the posterior mean
 * of the value per click (`greedy`), or its quantile 1 − c / (hours since the start + 1), Bayes-UCB
 * (Kaufmann, Cappé & Garivier 2012), with c = 1, 2 or 3: below the median (cautious) in the first
 * hours, optimistic later.
 */
export const INFORMED_RULES = ['greedy', 'ucb1', 'ucb2', 'ucb3'] as const;
export type InformedRule = (typeof INFORMED_RULES)[number];

/** A random stream of its own per rule, apart from the engine strategies' streams. */
const INFORMED_STREAM = 100;

/** The standard normal distribution function (Abramowitz & Stegun 7.1.26, error below 1.5e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496735) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** Every conversion rate the scenario uses, in any phase: the informed prior's support. */
function rateGrid(world: World): number[] {
  const rates = new Set<number>();
  for (const phase of world.phases) for (const rate of phase.cvr) rates.add(rate);
  return [...rates].sort((a, b) => a - b);
}

/** The posterior quantile level a rule scores with, or null for the posterior mean. */
function quantileLevel(rule: InformedRule, hoursSinceStart: number): number | null {
  if (rule === 'greedy') return null;
  const c = Number(rule.slice(3));
  return Math.max(0, 1 - c / (hoursSinceStart + 1));
}

export function simulateInformed(world: World, traffic: Traffic, seed: number, rule: InformedRule): StrategyOutcome {
  const { scenario, entryCount: n } = world;
  const grid = rateGrid(world);
  const g = grid.length;
  const hours = Math.ceil(scenario.hours);
  const rng = streamRng(seed, INFORMED_STREAM + INFORMED_RULES.indexOf(rule));
  // Value of one conversion per entry (the metric's, as regret counts it), known to the optimiser.
  const first = world.phases[0];
  const perConversion = Float64Array.from({ length: n }, (_, i) => ((first?.cvr[i] ?? 0) > 0 ? (first?.valuePerClick[i] ?? 0) / (first?.cvr[i] ?? 1) : 0));
  const clicks = new Float64Array(n * hours);
  const conversions: { slot: number; arrivesMs: number }[] = [];
  const score = new Float64Array(n);
  const arrivedShare = (entry: number, ageMs: number): number =>
    ageMs <= 0 ? 0 : normalCdf(Math.log(ageMs / (world.delayMedianMs[entry] ?? 1)) / DELAY_SIGMA);

  const update = (nowMs: number): void => {
    const arrived = new Float64Array(n * hours);
    for (const c of conversions) if (c.arrivesMs <= nowMs) arrived[c.slot] = (arrived[c.slot] ?? 0) + 1;
    const level = quantileLevel(rule, nowMs / HOUR_MS);
    const logLikelihood = new Float64Array(g);
    for (let e = 0; e < n; e++) {
      logLikelihood.fill(0);
      for (let h = 0; h < hours; h++) {
        const slot = e * hours + h;
        const sent = clicks[slot] ?? 0;
        const ageMs = nowMs - (h + 0.5) * HOUR_MS;
        if (sent === 0 || ageMs <= 0) continue;
        const got = arrived[slot] ?? 0;
        const share = arrivedShare(e, ageMs);
        // A conversion that arrived: rate × its delay density; one that has not (yet): 1 − rate × share.
        for (let j = 0; j < g; j++) {
          const rate = grid[j] ?? 0;
          logLikelihood[j] = (logLikelihood[j] ?? 0) + (got > 0 ? got * Math.log(rate) : 0) + (sent - got) * Math.log(1 - rate * share);
        }
      }
      const top = Math.max(...logLikelihood);
      const weights = Array.from(logLikelihood, (l) => Math.exp(l - top));
      const total = weights.reduce((a, b) => a + b, 0);
      const mean = weights.reduce((a, w, j) => a + (w / total) * (grid[j] ?? 0), 0);
      let value = mean;
      if (level !== null) {
        let cumulative = 0;
        value = grid[g - 1] ?? 0;
        for (let j = 0; j < g; j++) {
          cumulative += (weights[j] ?? 0) / total;
          if (cumulative >= level) {
            value = grid[j] ?? 0;
            break;
          }
        }
      }
      // Quantiles of a discrete prior often tie (early on, at the lowest rate still possible): the mean breaks the tie.
      score[e] = (value + mean * 1e-6) * (perConversion[e] ?? 0);
    }
  };

  const runEveryMs = scenario.run_frequency_hours * HOUR_MS;
  let nextRunMs = runEveryMs;
  let optimising = false;
  let regret = 0;
  let reward = 0;
  let converted = 0;
  for (let k = 0; k < traffic.count; k++) {
    const atMs = traffic.atMs[k] ?? 0;
    while (atMs >= nextRunMs) {
      optimising ||= k >= scenario.collection_threshold;
      if (optimising) update(nextRunMs);
      nextRunMs += runEveryMs;
    }
    const source = traffic.source[k] ?? 0;
    let pick = -1;
    let best = -Infinity;
    let seen = 0;
    for (let e = 0; e < n; e++) {
      if (world.eligible[source * n + e] !== 1) continue;
      seen++;
      // Collecting: uniform over the eligible entries. Then the best score, ties broken at random.
      const draw = rng.next();
      if (!optimising) {
        if (draw * seen < 1) pick = e;
      } else if ((score[e] ?? 0) + draw * 1e-12 > best) {
        best = (score[e] ?? 0) + draw * 1e-12;
        pick = e;
      }
    }
    if (pick < 0) continue;
    const phase = phaseAt(world, atMs);
    const value = phase.valuePerClick[pick] ?? 0;
    reward += value;
    regret += (bestValue(world, phase, source) ?? value) - value;
    const slot = pick * hours + Math.min(hours - 1, Math.floor(atMs / HOUR_MS));
    clicks[slot] = (clicks[slot] ?? 0) + 1;
    if ((traffic.convertDraw[k] ?? 1) < (phase.cvr[pick] ?? 0)) {
      converted++;
      conversions.push({ slot, arrivesMs: atMs + (world.delayMedianMs[pick] ?? 0) * Math.exp(DELAY_SIGMA * (traffic.delayDraw[k] ?? 0)) });
    }
  }
  return { regret, reward, conversions: converted, runs: [] };
}
