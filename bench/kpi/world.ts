import { seededRng, type KpiMetric, type Rng } from '../../src/engine/index.js';
import type { Scenario } from './scenario.js';

export const HOUR_MS = 3_600_000;
/** Midnight UTC on a Monday: simulated time 0. */
export const START_MS = Date.UTC(2026, 2, 2);
/** Distinct `source_id` values visitors come with; an entry allows a share of them. */
export const SOURCE_COUNT = 1000;
/** Spread of the log-normal click-to-conversion delay (log-hours): median × e^(±σ) covers ~68 %. */
export const DELAY_SIGMA = 1.0;

/** The independent random streams of one seed, so that adding draws to one never shifts another. */
export const STREAM = { traffic: 1, eligibility: 2, engine: 3 } as const;

/** A stream of the seed: the same (seed, stream) always gives the same numbers. */
export function streamRng(seed: number, stream: number): Rng {
  // splitmix32-style mix so that neighbouring seeds and streams start far apart.
  let h = (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return seededRng((h ^ (h >>> 16)) >>> 0);
}

/** The truth of one stretch of time between two changes. */
interface Phase {
  readonly fromMs: number;
  readonly cvr: Float64Array;
  /** The metric's expected value per click of each entry: what regret is measured in. */
  readonly valuePerClick: Float64Array;
  readonly revenue: Float64Array;
  readonly payout: Float64Array;
}

/**
 * Everything the simulator knows and the engine must learn, for one scenario and seed: rates and
 * values over time, and which sources each entry accepts.
 */
export interface World {
  readonly scenario: Scenario;
  readonly entryCount: number;
  /** Per entry, the `source_id` values its entry ruleset allows; null = every visitor. */
  readonly allowedSources: readonly (readonly string[] | null)[];
  /** `eligible[source * entryCount + entry]` is 1 when the entry accepts visitors from the source. */
  readonly eligible: Uint8Array;
  readonly phases: readonly Phase[];
  readonly delayMedianMs: Float64Array;
}

/** Money a conversion adds to the metric; rate metrics count the conversion itself. */
function valuePerConversion(metric: KpiMetric, revenue: number, payout: number): number {
  switch (metric) {
    case 'revenue':
    case 'rpc':
      return revenue;
    case 'payout':
    case 'epc':
      return payout;
    case 'profit':
      return revenue - payout;
    default:
      return 1;
  }
}

function buildPhases(scenario: Scenario): Phase[] {
  const n = scenario.entries.length;
  const cvr = Float64Array.from(scenario.entries, (e) => e.cvr);
  const revenue = Float64Array.from(scenario.entries, (e) => e.value);
  const payout = Float64Array.from(scenario.entries, (e) => e.payout ?? 0);
  const snapshot = (fromMs: number): Phase => {
    const valuePerClick = new Float64Array(n);
    for (let i = 0; i < n; i++) valuePerClick[i] = (cvr[i] ?? 0) * valuePerConversion(scenario.metric, revenue[i] ?? 0, payout[i] ?? 0);
    return { fromMs, cvr: cvr.slice(), valuePerClick, revenue: revenue.slice(), payout: payout.slice() };
  };
  const phases = [snapshot(0)];
  const changes = [...scenario.changes].sort((a, b) => a.at_hour - b.at_hour);
  for (const change of changes) {
    if (change.cvr !== undefined) cvr[change.entry] = change.cvr;
    if (change.value !== undefined) revenue[change.entry] = change.value;
    if (change.payout !== undefined) payout[change.entry] = change.payout;
    const fromMs = change.at_hour * HOUR_MS;
    // Changes at the same moment fold into one phase.
    if (phases[phases.length - 1]?.fromMs === fromMs) phases.pop();
    phases.push(snapshot(fromMs));
  }
  return phases;
}

/** Picks `count` of `0 … total-1` uniformly without replacement (partial Fisher–Yates). */
function sample(total: number, count: number, rng: Rng): number[] {
  const pool = Array.from({ length: total }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rng.next() * (total - i));
    [pool[i], pool[j]] = [pool[j] ?? 0, pool[i] ?? 0];
  }
  return pool.slice(0, count);
}

export const sourceName = (source: number): string => `s${source}`;

/**
 * Each entry with a share below 1 allows a random set of exactly round(share × SOURCE_COUNT)
 * sources, drawn independently per entry; a visitor's source is uniform, so the entry accepts them
 * with probability `eligible_share`, and different entries' verdicts are (nearly) independent.
 */
export function buildWorld(scenario: Scenario, seed: number): World {
  const n = scenario.entries.length;
  const rng = streamRng(seed, STREAM.eligibility);
  const eligible = new Uint8Array(SOURCE_COUNT * n);
  const allowedSources = scenario.entries.map((entry, i) => {
    const allowed = entry.eligible_share >= 1
      ? Array.from({ length: SOURCE_COUNT }, (_, s) => s)
      : sample(SOURCE_COUNT, Math.max(1, Math.round(entry.eligible_share * SOURCE_COUNT)), rng);
    for (const s of allowed) eligible[s * n + i] = 1;
    return entry.eligible_share >= 1 ? null : allowed.sort((a, b) => a - b).map(sourceName);
  });
  return {
    scenario,
    entryCount: n,
    allowedSources,
    eligible,
    phases: buildPhases(scenario),
    delayMedianMs: Float64Array.from(scenario.entries, (e) => e.delay_median_hours * HOUR_MS),
  };
}

/** The phase in force at simulated time `atMs`. */
export function phaseAt(world: World, atMs: number): Phase {
  let phase = world.phases[0] as Phase;
  for (const candidate of world.phases) if (candidate.fromMs <= atMs) phase = candidate;
  return phase;
}

/**
 * The visitors of one seed, shared by every strategy (common random numbers): arrival time,
 * source, and the two draws that decide whether and when the click converts on whichever entry it
 * is sent to, so strategies differ only by their choices.
 */
export interface Traffic {
  readonly count: number;
  /** Simulated milliseconds since START_MS, increasing. */
  readonly atMs: Float64Array;
  readonly source: Int32Array;
  /** Uniform in [0, 1): the click converts when this is below the chosen entry's cvr. */
  readonly convertDraw: Float64Array;
  /** Standard normal: the delay is median × e^(σ·z). */
  readonly delayDraw: Float64Array;
}

export function buildTraffic(scenario: Scenario, seed: number): Traffic {
  const rng = streamRng(seed, STREAM.traffic);
  const count = Math.round(scenario.hours * scenario.clicks_per_hour);
  const spacingMs = HOUR_MS / scenario.clicks_per_hour;
  const traffic = {
    count,
    atMs: new Float64Array(count),
    source: new Int32Array(count),
    convertDraw: new Float64Array(count),
    delayDraw: new Float64Array(count),
  };
  for (let k = 0; k < count; k++) {
    // One click per slot of 1/clicks_per_hour, at a uniform moment inside it: steady traffic, no bursts.
    traffic.atMs[k] = (k + rng.next()) * spacingMs;
    traffic.source[k] = Math.floor(rng.next() * SOURCE_COUNT);
    traffic.convertDraw[k] = rng.next();
    traffic.delayDraw[k] = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  }
  return traffic;
}

/** The best expected value per click among the entries the visitor may see; null when none. */
export function bestValue(world: World, phase: Phase, source: number): number | null {
  const n = world.entryCount;
  let best: number | null = null;
  for (let i = 0; i < n; i++) {
    if (world.eligible[source * n + i] !== 1) continue;
    const value = phase.valuePerClick[i] ?? 0;
    if (best === null || value > best) best = value;
  }
  return best;
}
