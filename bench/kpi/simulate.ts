import type { KpiStateRecord } from '../../src/domain/kpi.js';
import {
  allClear, decide, kpiSettingsView, runKpi, type ClickContext, type KpiEntryRef, type KpiModel, type KpiRunResult, type Rng,
  type Snapshot,
} from '../../src/engine/index.js';
import { LINK_ID, PARTNER_ID, kpiSettingsOf, kpiState, snapshotBuilder, type LinkRouting } from './link.js';
import { Tracker } from './tracker.js';
import {
  DELAY_SIGMA, HOUR_MS, START_MS, STREAM, bestValue, phaseAt, sourceName, streamRng, type Traffic, type World,
} from './world.js';

export const STRATEGIES = ['thompson', 'ranking', 'uniform', 'oracle'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** One run's outcome as the benchmark's diagnostics show it. */
export interface RunTrace {
  readonly atHour: number;
  readonly phase: KpiRunResult['phase'];
  /** Share of the next period's routed clicks per entry index (filled in as the period ends). */
  shares: number[];
  /** The run's own expected share per entry index (thompson's Monte Carlo, ranking's winner). */
  readonly expectedShares: (number | null)[];
}

export interface StrategyOutcome {
  /** Σ over clicks of (best eligible expected value − expected value of the chosen entry). */
  readonly regret: number;
  /** Σ over clicks of the chosen entry's expected value. */
  readonly reward: number;
  /** Conversions the chosen entries actually produced (arrived or not). */
  readonly conversions: number;
  readonly runs: readonly RunTrace[];
}

const CONTEXT: ClickContext = {
  transaction_id: '0'.repeat(32), time_ms: START_MS, ip: '198.51.100.7', user_agent: 'sim',
  device: { os: 'Android', os_version: '14', device_type: 'mobile', browser: 'Chrome', brand: 'Google', language: 'en' },
  is_bot: false, geo: { country: 'US', region: null, city: null, time_zone: 'UTC' },
  sub1: null, sub2: null, sub3: null, sub4: null, sub5: null, source_id: null, deep_link: null, idfa: null, gaid: null,
  offer_cookies: new Map(),
};

/** The oracle needs no engine: every visitor goes to the best entry it may see. */
function simulateOracle(world: World, traffic: Traffic): StrategyOutcome {
  let reward = 0;
  let conversions = 0;
  for (let k = 0; k < traffic.count; k++) {
    const phase = phaseAt(world, traffic.atMs[k] ?? 0);
    const source = traffic.source[k] ?? 0;
    const best = bestValue(world, phase, source);
    if (best === null) continue;
    reward += best;
    // The realised conversion of the best entry: the first eligible one holding the best value.
    for (let i = 0; i < world.entryCount; i++) {
      if (world.eligible[source * world.entryCount + i] !== 1 || phase.valuePerClick[i] !== best) continue;
      if ((traffic.convertDraw[k] ?? 1) < (phase.cvr[i] ?? 0)) conversions++;
      break;
    }
  }
  return { regret: 0, reward, conversions, runs: [] };
}

/**
 * Routes every visitor with the real engine, and for KPI links runs the real optimiser every
 * `run_frequency_hours` on what the tracker knows at that moment. Conversions are drawn from the
 * shared traffic draws, so strategies see the same luck for the same visitor and entry rate.
 */
function simulateEngine(world: World, traffic: Traffic, routing: LinkRouting, seed: number, strategyIndex: number): StrategyOutcome {
  const { scenario, entryCount: n } = world;
  const rng = streamRng(seed, STREAM.engine + strategyIndex);
  const build = snapshotBuilder(world, routing);
  const tracker = new Tracker(n, scenario.hours);
  const refs: KpiEntryRef[] = Array.from({ length: n }, (_, i) => ({ id: i + 1, routingValue: 0, position: i }));
  const settings = routing.kind === 'kpi' ? kpiSettingsView(kpiSettingsOf(world, routing.algorithm)) : null;
  const runEveryMs = scenario.run_frequency_hours * HOUR_MS;
  let snapshot = build(null);
  let model: KpiModel | null = null;
  let runId = 0;
  let nextRunMs = settings === null ? Infinity : runEveryMs;
  const runs: RunTrace[] = [];
  let periodClicks = new Array<number>(n).fill(0);
  const closePeriod = (): void => {
    const last = runs[runs.length - 1];
    const total = periodClicks.reduce((a, b) => a + b, 0);
    if (last) last.shares = periodClicks.map((c) => (total > 0 ? c / total : 0));
    periodClicks = new Array<number>(n).fill(0);
  };

  let regret = 0;
  let reward = 0;
  let conversions = 0;
  for (let k = 0; k < traffic.count; k++) {
    const atMs = traffic.atMs[k] ?? 0;
    while (settings !== null && atMs >= nextRunMs) {
      const result = runKpi(tracker.runInput(nextRunMs, settings, refs, model));
      model = result.model;
      const state: KpiStateRecord = kpiState(model, model === null ? null : ++runId, nextRunMs);
      snapshot = build(state);
      closePeriod();
      const shareOf = new Map(result.entries.map((e) => [e.entry_id, e.expected_share]));
      runs.push({ atHour: nextRunMs / HOUR_MS, phase: result.phase, shares: [], expectedShares: refs.map((r) => shareOf.get(r.id) ?? null) });
      nextRunMs += runEveryMs;
    }
    const source = traffic.source[k] ?? 0;
    const ctx: ClickContext = { ...CONTEXT, time_ms: START_MS + atMs, source_id: sourceName(source) };
    const decision = decideOrFail(snapshot, ctx, rng);
    const entry = decision === null ? -1 : decision - 1;
    tracker.recordClick(entry, atMs);
    const phase = phaseAt(world, atMs);
    const best = bestValue(world, phase, source);
    if (entry < 0) {
      // No match is only right when the visitor may see no entry; otherwise the engine lost a click.
      if (best !== null) throw new Error(`seed ${seed}: click ${k} found no entry though entries were eligible`);
      continue;
    }
    if (world.eligible[source * n + entry] !== 1) throw new Error(`seed ${seed}: click ${k} routed to entry ${entry + 1}, which excludes its source`);
    periodClicks[entry] = (periodClicks[entry] ?? 0) + 1;
    const value = phase.valuePerClick[entry] ?? 0;
    reward += value;
    regret += (best ?? value) - value;
    if ((traffic.convertDraw[k] ?? 1) < (phase.cvr[entry] ?? 0)) {
      conversions++;
      const delayMs = (world.delayMedianMs[entry] ?? 0) * Math.exp(DELAY_SIGMA * (traffic.delayDraw[k] ?? 0));
      tracker.recordConversion(entry, atMs, atMs + delayMs, phase.revenue[entry] ?? 0, phase.payout[entry] ?? 0);
    }
  }
  closePeriod();
  return { regret, reward, conversions, runs };
}

/** The routed entry id, or null for no match. */
function decideOrFail(snapshot: Snapshot, ctx: ClickContext, rng: Rng): number | null {
  // Lean, as on the click path: the simulation reads only the routed entry.
  const decision = decide(snapshot, LINK_ID, PARTNER_ID, ctx, allClear, rng, { lean: true });
  if (decision === null) throw new Error('the simulated link is missing from its snapshot');
  return decision.entry_id;
}

/** One strategy over one seed's world and traffic. */
export function simulate(strategy: Strategy, world: World, traffic: Traffic, seed: number): StrategyOutcome {
  const index = STRATEGIES.indexOf(strategy);
  switch (strategy) {
    case 'oracle':
      return simulateOracle(world, traffic);
    case 'uniform':
      return simulateEngine(world, traffic, { kind: 'uniform' }, seed, index);
    default:
      return simulateEngine(world, traffic, { kind: 'kpi', algorithm: strategy }, seed, index);
  }
}
