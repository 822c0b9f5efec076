import { round } from '../support.js';
import type { Scenario } from './scenario.js';
import type { InformedRule } from './informed.js';
import type { Strategy, StrategyOutcome } from './simulate.js';

export interface Summary {
  readonly mean: number;
  readonly sd: number;
}

export function summarise(values: readonly number[]): Summary {
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  const variance = values.length < 2 ? 0 : values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
  return { mean, sd: Math.sqrt(variance) };
}

/** a / b for regrets: two zero regrets are equal (1), a positive one over zero is unbounded. */
export const ratio = (a: number, b: number): number => (b > 0 ? a / b : a > 0 ? Infinity : 1);

export interface ScenarioResult {
  readonly scenario: Scenario;
  readonly outcomes: ReadonlyMap<Strategy, readonly StrategyOutcome[]>;
  /** The informed optimisers' outcomes on the same seeds; empty unless asked for (--informed). */
  readonly informed: ReadonlyMap<InformedRule, readonly StrategyOutcome[]>;
  readonly seconds: number;
}

const unitOf = (scenario: Scenario): string =>
  scenario.metric === 'cvr' || scenario.metric === 'evr' || scenario.metric === 'conversions' ? 'expected conversions' : 'currency units';

const pad = (text: string, width: number): string => text.padStart(width);

/** The human table of one scenario. */
export function formatTable(result: ScenarioResult): string {
  const { scenario, outcomes } = result;
  const seeds = outcomes.get('oracle')?.length ?? 0;
  const lines = [
    `kpi: scenario ${scenario.name}: ${scenario.entries.length} entries, ${scenario.hours} h × ${scenario.clicks_per_hour} clicks/h, ` +
      `metric ${scenario.metric}, runs every ${scenario.run_frequency_hours} h over ${scenario.lookback_hours} h, ${seeds} seeds, ${result.seconds.toFixed(1)} s`,
    `  regret and reward in ${unitOf(scenario)}; mean ± sd over seeds`,
    `  ${'strategy'.padEnd(9)}${pad('cumulative regret', 22)}${pad('reward', 22)}${pad('conversions', 14)}`,
  ];
  for (const [strategy, runs] of outcomes) {
    const regret = summarise(runs.map((r) => r.regret));
    const reward = summarise(runs.map((r) => r.reward));
    const conversions = summarise(runs.map((r) => r.conversions));
    lines.push(
      `  ${strategy.padEnd(9)}${pad(`${regret.mean.toFixed(2)} ± ${regret.sd.toFixed(2)}`, 22)}` +
        `${pad(`${reward.mean.toFixed(2)} ± ${reward.sd.toFixed(2)}`, 22)}${pad(conversions.mean.toFixed(1), 14)}`,
    );
  }
  return lines.join('\n');
}

/**
 * The ratio of two strategies' mean regrets over the same seeds, with its standard error by the
 * delta method on the paired per-seed regrets (a seed's luck moves both, so their covariance counts).
 * One seed's regret can be half or double another's, so the error says how far a ratio can move
 * with another set of seeds.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): { ratio: number; se: number } {
  const n = a.length;
  if (b.length !== n) throw new Error(`paired regrets need the same seeds: ${n} and ${b.length}`);
  const sa = summarise(a);
  const sb = summarise(b);
  const value = ratio(sa.mean, sb.mean);
  if (n < 2 || !(sa.mean > 0 && sb.mean > 0)) return { ratio: value, se: 0 };
  let covariance = 0;
  for (let i = 0; i < n; i++) covariance += ((a[i] ?? 0) - sa.mean) * ((b[i] ?? 0) - sb.mean);
  covariance /= n - 1;
  const relative = (sa.sd / sa.mean) ** 2 + (sb.sd / sb.mean) ** 2 - (2 * covariance) / (sa.mean * sb.mean);
  return { ratio: value, se: value * Math.sqrt(Math.max(0, relative) / n) };
}

export interface ScenarioRatios {
  readonly name: string;
  readonly vsRanking: number;
  /** Standard error of vsRanking over the seeds. */
  readonly vsRankingSe: number;
  readonly vsUniform: number;
}

const regretsOf = (result: ScenarioResult, strategy: Strategy): number[] => (result.outcomes.get(strategy) ?? []).map((r) => r.regret);
const meanRegret = (result: ScenarioResult, strategy: Strategy): number => summarise(regretsOf(result, strategy)).mean;

/** The scenario's BENCH line and its ratios for the summary. */
export function benchLine(result: ScenarioResult): { line: string; ratios: ScenarioRatios } {
  const thompson = meanRegret(result, 'thompson');
  const ranking = meanRegret(result, 'ranking');
  const uniform = meanRegret(result, 'uniform');
  const vsRanking = pairedRatio(regretsOf(result, 'thompson'), regretsOf(result, 'ranking'));
  const ratios = { name: result.scenario.name, vsRanking: vsRanking.ratio, vsRankingSe: vsRanking.se, vsUniform: ratio(thompson, uniform) };
  const line =
    `BENCH kpi scenario=${result.scenario.name} regret_thompson=${round(thompson, 3)} regret_ranking=${round(ranking, 3)} ` +
    `regret_uniform=${round(uniform, 3)} regret_ratio_vs_ranking=${round(ratios.vsRanking, 3)} ` +
    `regret_ratio_vs_ranking_se=${round(ratios.vsRankingSe, 3)} regret_ratio_vs_uniform=${round(ratios.vsUniform, 3)}`;
  return { line, ratios };
}

/** The closing line over several scenarios. */
export function summaryLine(all: readonly ScenarioRatios[]): string {
  const vsRanking = all.map((r) => r.vsRanking);
  const mean = vsRanking.reduce((a, b) => a + b, 0) / all.length;
  // Scenarios draw their seeds independently, so their errors add in quadrature.
  const meanSe = Math.sqrt(all.reduce((a, r) => a + r.vsRankingSe ** 2, 0)) / all.length;
  return (
    `BENCH kpi scenarios=${all.length} mean_ratio_vs_ranking=${round(mean, 3)} mean_ratio_vs_ranking_se=${round(meanSe, 3)} ` +
    `max_ratio_vs_ranking=${round(Math.max(...vsRanking), 3)} ` +
    `max_ratio_vs_uniform=${round(Math.max(...all.map((r) => r.vsUniform)), 3)}`
  );
}

/** Per-run allocations of one seed: what each run expected, and what the next period got. */
export function formatRuns(strategy: Strategy, outcome: StrategyOutcome): string {
  const lines = [`  ${strategy}, seed 0: hour phase | routed share per entry (next period) | run's expected share`];
  for (const run of outcome.runs) {
    const routed = run.shares.map((s) => (s * 100).toFixed(0).padStart(3)).join(' ');
    const expected = run.expectedShares.map((s) => (s === null ? '  -' : (s * 100).toFixed(0).padStart(3))).join(' ');
    lines.push(`    ${String(run.atHour).padStart(4)} ${run.phase.slice(0, 7).padEnd(7)} | ${routed} | ${expected}`);
  }
  return lines.join('\n');
}

/**
 * The informed optimisers of one scenario: each rule's regret and ratio to ranking, then a BENCH
 * line with the best rule beside thompson's ratio. The best of several rules on the same seeds is
 * flattered by the choice; `--first-seed` checks it on others.
 */
export function informedLines(result: ScenarioResult): string {
  const ranking = regretsOf(result, 'ranking');
  const lines = [`  informed optimisers (know the rate set and the delays; ${result.scenario.changes.length > 0 ? 'rates change here, so no bound' : 'a bound on what thompson can be asked'}):`];
  let best: { rule: InformedRule; regret: number; ratio: number; se: number } | null = null;
  for (const [rule, runs] of result.informed) {
    const regrets = runs.map((r) => r.regret);
    const { ratio: vsRanking, se } = pairedRatio(regrets, ranking);
    const regret = summarise(regrets);
    lines.push(`    ${rule.padEnd(7)}${pad(`${regret.mean.toFixed(2)} ± ${regret.sd.toFixed(2)}`, 22)}   ratio vs ranking ${vsRanking.toFixed(3)} ± ${se.toFixed(3)}`);
    if (best === null || vsRanking < best.ratio) best = { rule, regret: regret.mean, ratio: vsRanking, se };
  }
  if (best !== null) {
    const thompson = pairedRatio(regretsOf(result, 'thompson'), ranking).ratio;
    lines.push(
      `BENCH kpi-informed scenario=${result.scenario.name} best_rule=${best.rule} regret_best=${round(best.regret, 3)} ` +
        `best_ratio_vs_ranking=${round(best.ratio, 3)} best_ratio_vs_ranking_se=${round(best.se, 3)} thompson_ratio_vs_ranking=${round(thompson, 3)}`,
    );
  }
  return lines.join('\n');
}
