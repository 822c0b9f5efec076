import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main, runScenario } from '../../bench/kpi.js';
import { UsageError } from '../../bench/support.js';
import { Tracker } from '../../bench/kpi/tracker.js';
import { EARLIER_FADE_PER_HOUR } from '../../src/engine/kpi/earlier.js';
import { kpiSettingsView, type KpiModel, type KpiRunInput } from '../../src/engine/index.js';
import { ScenarioError, builtInScenarioDir, loadBuiltInScenarios, loadScenario, parseScenario } from '../../bench/kpi/scenario.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpi-scenario-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const tiny = {
  name: 'tiny', hours: 6, clicks_per_hour: 200, seeds: 2, metric: 'cvr', run_frequency_hours: 1, lookback_hours: 12,
  collection_threshold: 100,
  entries: [
    { cvr: 0.05, value: 10, delay_median_hours: 0.5, eligible_share: 0.5 },
    { cvr: 0.02, value: 10, delay_median_hours: 1, eligible_share: 1 },
    { cvr: 0.03, value: 10, delay_median_hours: 1, eligible_share: 0.3 },
  ],
  changes: [{ at_hour: 3, entry: 0, cvr: 0.01 }],
};

function writeScenario(name: string, content: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(content));
  return file;
}

describe('kpi scenario loader', () => {
  it('rejects a bad field and names it', () => {
    const bad = { ...tiny, entries: [tiny.entries[0], { ...tiny.entries[1], cvr: 1.5 }] };
    const file = writeScenario('bad.json', bad);
    expect(() => loadScenario(file)).toThrow(ScenarioError);
    expect(() => loadScenario(file)).toThrow(/entries\[1\]\.cvr/);
  });

  it('names the allowed values of a closed field', () => {
    expect(() => parseScenario({ ...tiny, metric: 'clicks' }, 'inline')).toThrow(/field "metric".*"cvr"/);
  });

  it('rejects a change that points past the entries', () => {
    expect(() => parseScenario({ ...tiny, changes: [{ at_hour: 1, entry: 3, cvr: 0.1 }] }, 'inline')).toThrow(/changes\[0\]\.entry/);
  });

  it('rejects unknown fields, so a typo is not silently ignored', () => {
    expect(() => parseScenario({ ...tiny, lookback: 24 }, 'inline')).toThrow(ScenarioError);
  });

  it('accepts every built-in scenario', () => {
    expect(loadBuiltInScenarios().length).toBeGreaterThanOrEqual(5);
  });

  it('accepts the long-run scenarios, which the default run leaves out', () => {
    const longDir = path.join(builtInScenarioDir(), '..', 'scenarios-long');
    const long = fs.readdirSync(longDir).filter((name) => name.endsWith('.json')).map((name) => loadScenario(path.join(longDir, name)));
    expect(long.map((s) => s.name).sort()).toEqual(['many-entries-week', 'stable-week']);
    const builtIn = new Set(loadBuiltInScenarios().map((s) => s.name));
    for (const scenario of long) expect(builtIn.has(scenario.name)).toBe(false);
  });
});

describe('kpi simulation', () => {
  it('gives the oracle zero regret and every strategy a non-negative one', () => {
    const result = runScenario(parseScenario(tiny, 'tiny'));
    const oracle = result.outcomes.get('oracle') ?? [];
    expect(oracle).toHaveLength(2);
    for (const run of oracle) expect(run.regret).toBe(0);
    for (const strategy of ['thompson', 'ranking', 'uniform'] as const) {
      const runs = result.outcomes.get(strategy) ?? [];
      expect(runs).toHaveLength(2);
      for (const [seed, run] of runs.entries()) {
        expect(run.regret, `${strategy} seed ${seed}`).toBeGreaterThanOrEqual(0);
        // Regret and reward add up to the oracle's reward: the same visitors, the same truth.
        expect(run.regret + run.reward, `${strategy} seed ${seed}`).toBeCloseTo(oracle[seed]?.reward ?? NaN, 6);
      }
    }
  });

  it('replays exactly for the same seeds', () => {
    const scenario = parseScenario({ ...tiny, seeds: 1 }, 'tiny');
    const first = runScenario(scenario).outcomes.get('thompson');
    const second = runScenario(scenario).outcomes.get('thompson');
    expect(second?.map((r) => r.regret)).toEqual(first?.map((r) => r.regret));
  });

  it('runs held-out seeds from a first seed: seeds 1 … 2 are the tail of seeds 0 … 2', () => {
    const scenario = parseScenario(tiny, 'tiny');
    const all = runScenario(scenario, 3).outcomes.get('thompson')?.map((r) => r.regret) ?? [];
    const heldOut = runScenario(scenario, 2, 1).outcomes.get('thompson')?.map((r) => r.regret);
    expect(all).toHaveLength(3);
    expect(heldOut).toEqual(all.slice(1));
  });
});

describe('informed optimisers (--informed)', () => {
  const meanRegret = (runs: readonly { regret: number }[] | undefined): number => (runs ?? []).reduce((a, r) => a + r.regret, 0) / (runs?.length ?? 1);

  it('see the same visitors as the oracle, and knowing the rates lose far less than uniform', () => {
    const result = runScenario(parseScenario({ ...tiny, changes: [], hours: 12 }, 'tiny'), 2, 0, true);
    const oracle = result.outcomes.get('oracle') ?? [];
    const uniform = meanRegret(result.outcomes.get('uniform'));
    expect([...result.informed.keys()]).toEqual(['greedy', 'ucb1', 'ucb2', 'ucb3']);
    for (const [rule, runs] of result.informed) {
      for (const [seed, run] of runs.entries()) expect(run.regret + run.reward, `${rule} seed ${seed}`).toBeCloseTo(oracle[seed]?.reward ?? NaN, 6);
      expect(meanRegret(runs), rule).toBeLessThan(uniform / 2);
    }
  });

  it('learn only from conversions that have arrived: with delays longer than the run they do no better than uniform', () => {
    // Every entry open to everyone, so that without evidence any even split is uniform's.
    const late = tiny.entries.map((entry) => ({ ...entry, delay_median_hours: 2000, eligible_share: 1 }));
    const result = runScenario(parseScenario({ ...tiny, entries: late, changes: [], hours: 12 }, 'tiny'), 2, 0, true);
    const uniform = meanRegret(result.outcomes.get('uniform'));
    for (const [rule, runs] of result.informed) expect(meanRegret(runs), rule).toBeGreaterThan(uniform * 0.8);
  });

  it('are left out unless asked for', () => {
    expect(runScenario(parseScenario({ ...tiny, seeds: 1 }, 'tiny')).informed.size).toBe(0);
  });
});

describe('kpi simulation tracker', () => {
  it('folds the hours older than the history run after run, each faded by its age, as the scheduler does', () => {
    const HOUR = 3_600_000;
    // A 12-hour lookback: 72 hours of hourly history.
    const settings = kpiSettingsView({ metric: 'cvr', algorithm: 'thompson', collection_threshold: 0, lookback_hours: 12 });
    const refs = [1, 2].map((id, position) => ({ id, routingValue: 1, position }));
    const tracker = new Tracker(2, 100);
    // Entry 1: ten clicks an hour for 90 hours, one of them converting an hour later. Entry 2: five clicks in hour 0.
    for (let hour = 0; hour < 90; hour++) {
      for (let k = 0; k < 10; k++) tracker.recordClick(0, hour * HOUR + k * 60_000);
      tracker.recordConversion(0, hour * HOUR, (hour + 1) * HOUR, 10, 0);
    }
    for (let k = 0; k < 5; k++) tracker.recordClick(1, k * 60_000);
    let model: KpiModel | null = null;
    let earlier: KpiRunInput['earlier'] = null;
    for (let hour = 73; hour <= 90; hour++) {
      earlier = tracker.runInput(hour * HOUR, settings, refs, model).earlier;
      model = { algorithm: 'thompson', metric: 'cvr', goal: null, posteriors: [], ...(earlier ? { earlier: earlier.outcomes } : {}) };
    }
    // At hour 90 the history starts at hour 18: hours 0 … 17 are summed, hour h weighted fade^(17 − h).
    const weight = (hour: number) => EARLIER_FADE_PER_HOUR ** (17 - hour);
    const hours = Array.from({ length: 18 }, (_, hour) => hour);
    expect(earlier?.ageMs).toBe(72 * HOUR);
    const [first, second] = earlier?.outcomes.entries ?? [];
    expect(first?.entryId).toBe(1);
    expect(first?.clicks).toBeCloseTo(hours.reduce((sum, hour) => sum + 10 * weight(hour), 0), 9);
    expect(first?.conversions).toBeCloseTo(hours.reduce((sum, hour) => sum + weight(hour), 0), 9);
    expect(second).toMatchObject({ entryId: 2 });
    expect(second?.clicks).toBeCloseTo(5 * weight(0), 9);
  });
});

describe('kpi command line', () => {
  it('refuses a mistyped option before it runs, instead of starting the full default run', async () => {
    const file = writeScenario('typo.json', tiny);
    await expect(main(['--scenario', file, '--seed', '1'])).rejects.toThrow(UsageError);
    await expect(main(['--scenario', file, '--seed', '1'])).rejects.toThrow(/unknown option --seed\b/);
  });

  it('answers --help with its usage and runs nothing', async () => {
    const file = writeScenario('help.json', tiny);
    await expect(main(['--scenario', file, '--help'])).rejects.toMatchObject({ help: true, message: expect.stringMatching(/--seeds VALUE.*--trace/) });
  });

  it('refuses an option without its value', async () => {
    await expect(main(['--seeds', '--trace'])).rejects.toThrow(/--seeds needs a value/);
  });

  it('refuses --seeds 0 instead of starting the scenarios\' full default seed counts, and seeds that are not whole numbers', async () => {
    const file = writeScenario('seeds.json', tiny);
    await expect(main(['--scenario', file, '--seeds', '0'])).rejects.toThrow(/--seeds must be a (whole )?number of at least 1/);
    await expect(main(['--scenario', file, '--seeds', '1.5'])).rejects.toThrow(/--seeds must be a (whole )?number of at least 1/);
    // Seeds 0.5 and 1.5 would replay seeds 0 and 1 (the seed mix truncates): not held-out seeds at all.
    await expect(main(['--scenario', file, '--seeds', '2', '--first-seed', '0.5'])).rejects.toThrow(/--first-seed must be a whole number of at least 0/);
  });
});
