/**
 * KPI simulation (SPEC §13.3, issue #9): synthetic traffic in simulated time, routed by the real
 * engine (buildSnapshot + decide) and optimised by the real `runKpi`, compared over the same
 * visitors for `thompson`, `ranking`, `uniform` weights and an `oracle` that always picks the best
 * eligible entry. Regret per click is the oracle's expected metric value minus the chosen entry's.
 * See bench/kpi/README.md for the model of traffic, eligibility and conversion delays.
 *
 * Options: --scenario FILE (repeatable; default every bench/scenarios/*.json), --seeds N (override),
 * --first-seed S (run seeds S … S+N-1 instead of 0 … N-1: held-out seeds for a change tuned on the
 * usual ones), --trace (print the first seed's per-run allocations for thompson and ranking),
 * --informed (also run optimisers that know the scenario's rates and delays: bench/kpi/informed.ts).
 */
import { ScenarioError, loadBuiltInScenarios, loadScenario, type Scenario } from './kpi/scenario.js';
import { benchLine, formatRuns, formatTable, informedLines, summaryLine, type ScenarioRatios, type ScenarioResult } from './kpi/report.js';
import { INFORMED_RULES, simulateInformed, type InformedRule } from './kpi/informed.js';
import { STRATEGIES, simulate, type Strategy, type StrategyOutcome } from './kpi/simulate.js';
import { buildTraffic, buildWorld } from './kpi/world.js';
import { checkOptions, option, UsageError } from './support.js';

/** Runs every strategy over `seeds` seeds of one scenario, from `firstSeed` on. */
export function runScenario(scenario: Scenario, seeds = scenario.seeds, firstSeed = 0, informed = false): ScenarioResult {
  const started = performance.now();
  const outcomes = new Map<Strategy, StrategyOutcome[]>(STRATEGIES.map((s) => [s, []]));
  const informedOutcomes = new Map<InformedRule, StrategyOutcome[]>(informed ? INFORMED_RULES.map((r) => [r, []]) : []);
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    const world = buildWorld(scenario, seed);
    const traffic = buildTraffic(scenario, seed);
    for (const strategy of STRATEGIES) outcomes.get(strategy)?.push(simulate(strategy, world, traffic, seed));
    for (const [rule, runs] of informedOutcomes) runs.push(simulateInformed(world, traffic, seed, rule));
  }
  return { scenario, outcomes, informed: informedOutcomes, seconds: (performance.now() - started) / 1000 };
}

function scenarioFiles(args: string[]): string[] {
  const files: string[] = [];
  args.forEach((arg, i) => {
    if (arg !== '--scenario') return;
    const file = args[i + 1];
    if (file === undefined || file.startsWith('--')) throw new ScenarioError('--scenario needs a file');
    files.push(file);
  });
  return files;
}

export async function main(args: string[]): Promise<void> {
  checkOptions('kpi', args, { values: ['scenario', 'seeds', 'first-seed'], flags: ['trace', 'informed'] });
  let scenarios: Scenario[];
  try {
    const files = scenarioFiles(args);
    scenarios = files.length > 0 ? files.map(loadScenario) : loadBuiltInScenarios();
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw err;
    process.stderr.write(`kpi: ${err.message}\n`);
    process.exit(2);
  }
  // A seed is a whole number (the seed mix truncates 1.5 to 1), and --seeds 0 is no run at all, not
  // the scenarios' full default counts.
  const whole = (name: string, fallback: number, minimum: number): number => {
    const value = option(args, name, fallback, minimum);
    if (!Number.isInteger(value)) throw new UsageError(`--${name} must be a whole number of at least ${minimum}`);
    return value;
  };
  const seedsOverride = args.includes('--seeds') ? whole('seeds', 0, 1) : 0;
  const firstSeed = whole('first-seed', 0, 0);
  const ratios: ScenarioRatios[] = [];
  for (const scenario of scenarios) {
    const result = runScenario(scenario, seedsOverride > 0 ? seedsOverride : scenario.seeds, firstSeed, args.includes('--informed'));
    process.stdout.write(`${formatTable(result)}\n`);
    if (result.informed.size > 0) process.stdout.write(`${informedLines(result)}\n`);
    if (args.includes('--trace')) {
      for (const strategy of ['thompson', 'ranking'] as const) {
        const first = result.outcomes.get(strategy)?.[0];
        if (first) process.stdout.write(`${formatRuns(strategy, first)}\n`);
      }
    }
    const { line, ratios: scenarioRatios } = benchLine(result);
    ratios.push(scenarioRatios);
    process.stdout.write(`${line}\n`);
  }
  if (scenarios.length > 1) process.stdout.write(`${summaryLine(ratios)}\n`);
}
