import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KpiStateRecord } from '../../src/domain/kpi.js';
import type { KpiSettings } from '../../src/domain/schemas/smart-link.js';
import {
  allClear, decide, foldEarlier, kpiSettingsView, runKpi, seededRng,
  type EarlierOutcomes, type EntryWindowStats, type KpiModel, type KpiRunInput, type Snapshot,
} from '../../src/engine/index.js';
import { EARLIER_FADE_PER_HOUR } from '../../src/engine/kpi/earlier.js';
import { sampleBeta, sampleGamma } from '../../src/engine/kpi/sampling.js';
import { POSTERIOR_SHARPENING, meanMetric, sharpeningFor } from '../../src/engine/kpi/thompson.js';
import { context, entry, offer, smartLink, snapshotOf } from './fixtures.js';

const HOUR = 3_600_000;
const US = context();
const DE = context({ geo: { country: 'DE', region: null, city: null, time_zone: 'Europe/Berlin' } });
const usOnly = { rules: [{ dimension: 'country' as const, op: 'include' as const, values: ['US'] }] };
const deOnly = { rules: [{ dimension: 'country' as const, op: 'include' as const, values: ['DE'] }] };

function stats(entryId: number, clicks: number, conversions: number, extra: Partial<EntryWindowStats> = {}): EntryWindowStats {
  return { entryId, clicks, conversions, events: 0, revenueMicros: 0, payoutMicros: 0, hours: [], ...extra };
}

function input(settings: KpiSettings, rows: EntryWindowStats[], fields: Partial<KpiRunInput> = {}): KpiRunInput {
  return {
    settings: kpiSettingsView(settings),
    entries: rows.map((r, position) => ({ id: r.entryId, routingValue: 1, position })),
    stats: rows,
    conversionDelaysMs: [],
    clicksInEpoch: rows.reduce((sum, r) => sum + r.clicks, 0),
    previous: null,
    earlier: null,
    ...fields,
  };
}

/** A KPI link over offers 1..n (entry i → offer i), with the given model in force as run 7. */
function kpiSnapshot(settings: KpiSettings, model: KpiModel | null, entryCount: number, entryFields: Record<number, object> = {}): Snapshot {
  const ids = Array.from({ length: entryCount }, (_, i) => i + 1);
  const state: KpiStateRecord = {
    smart_link_id: 1, epoch: 3, epoch_started_at: '2026-03-01T00:00:00.000Z', model, model_run_id: model ? 7 : null, last_run_at: null,
  };
  return snapshotOf({
    offers: ids.map((id) => offer(id)),
    smartLinks: [smartLink(1, ids.map((id) => entry(id, id, { routing_value: 1, ...entryFields[id] })), { routing: 'kpi', kpi: settings })],
    kpiStates: [state],
  });
}

function shares(snapshot: Snapshot, clicks: number, seed: number, ctx = US): Map<number | null, number> {
  const rng = seededRng(seed);
  const counts = new Map<number | null, number>();
  for (let i = 0; i < clicks; i++) {
    const id = decide(snapshot, 1, 1, ctx, allClear, rng)?.entry_id ?? null;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

describe('KPI ranking (the reference behaviour)', () => {
  // Research §19.1: cvr, threshold 1,000; A 400 clicks / 8 conversions, B 350 / 14, C 250 / 3.
  const worked = [stats(1, 400, 8), stats(2, 350, 14), stats(3, 250, 3)];

  it('ranks the worked example B (4 %), A (2 %), C (1.2 %) and records the metric per entry', () => {
    const result = runKpi(input({ metric: 'cvr', algorithm: 'ranking', collection_threshold: 1000 }, worked));
    expect(result.phase).toBe('optimising');
    expect(result.model).toEqual({ algorithm: 'ranking', order: [2, 1, 3] });
    expect(result.winnerEntryId).toBe(2);
    const byEntry = new Map(result.entries.map((e) => [e.entry_id, e]));
    expect(byEntry.get(1)).toMatchObject({ clicks: 400, conversions: 8, rank: 2 });
    expect(byEntry.get(1)?.metric_value).toBeCloseTo(2, 10);
    expect(byEntry.get(2)?.metric_value).toBeCloseTo(4, 10);
    expect(byEntry.get(3)?.metric_value).toBeCloseTo(1.2, 10);
  });

  it('with goal 2 (%) the order becomes A (distance 0), C (0.8), B (2)', () => {
    const result = runKpi(input({ metric: 'cvr', algorithm: 'ranking', goal: 2, collection_threshold: 1000 }, worked));
    expect(result.model).toEqual({ algorithm: 'ranking', order: [1, 3, 2] });
  });

  it('a goal of 0 is no goal (the reference API sends 0 for none): the highest wins, not the lowest', () => {
    const result = runKpi(input({ metric: 'cvr', algorithm: 'ranking', goal: 0, collection_threshold: 1000 }, worked));
    expect(result.model).toEqual({ algorithm: 'ranking', order: [2, 1, 3] });
  });

  it('is a waterfall at click time: the winner takes every click it is eligible for, the next one the rest', () => {
    const settings: KpiSettings = { metric: 'cvr', algorithm: 'ranking' };
    const snapshot = kpiSnapshot(settings, { algorithm: 'ranking', order: [2, 1, 3] }, 3, { 2: { ruleset: usOnly } });
    expect(shares(snapshot, 200, 1, US)).toEqual(new Map([[2, 200]]));
    const german = decide(snapshot, 1, 1, DE, allClear, seededRng(1));
    expect(german).toMatchObject({ entry_id: 1, kpi_run_id: 7, skipped: [{ entry_id: 2, reason: expect.any(Number) }] });
    expect(german?.trace.order).toEqual([2, 1, 3]);
    expect(german?.trace.kpi).toMatchObject({ phase: 'optimising', algorithm: 'ranking', epoch: 3, run_id: 7 });
  });

  it('ranks absolute metrics per click, so volume alone does not win', () => {
    // A earns 300 over 3,000 clicks (0.10 per click); B 100 over 500 clicks (0.20 per click).
    const result = runKpi(input({ metric: 'revenue', algorithm: 'ranking', collection_threshold: 0 }, [
      stats(1, 3000, 30, { revenueMicros: 300_000_000 }), stats(2, 500, 10, { revenueMicros: 100_000_000 }),
    ]));
    expect(result.model).toEqual({ algorithm: 'ranking', order: [2, 1] });
  });

  it('scores equal money per click equally, so the tie goes to the entry with more clicks', () => {
    // 0.30 over 3 clicks and 0.10 over 1 click are both exactly 0.10 per click.
    for (const metric of ['rpc', 'revenue', 'profit'] as const) {
      const result = runKpi(input({ metric, algorithm: 'ranking', collection_threshold: 0 }, [
        stats(2, 1, 1, { revenueMicros: 100_000 }), stats(1, 3, 3, { revenueMicros: 300_000 }),
      ]));
      expect(result.entries.map((e) => e.metric_value)).toEqual([0.1, 0.1]);
      expect(result.model).toEqual({ algorithm: 'ranking', order: [1, 2] });
    }
  });

  it('property: with a goal, entries equally far from it on either side tie, and the tie goes to more clicks', () => {
    // A at goal − r/D and B at goal + r/D (percent), on 100·D·α and 100·D·β clicks.
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 97 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.boolean(),
        (goal, d, r, alpha, beta, money) => {
          fc.pre(alpha !== beta && r <= goal * d && goal * d + r <= 100 * d);
          const [clicksA, clicksB] = [100 * d * alpha, 100 * d * beta];
          const [winsA, winsB] = [goal * d * alpha - r * alpha, goal * d * beta + r * beta];
          // The same as money: each conversion worth 1, so the revenue per click is the cvr / 100, the goal too.
          const row = (id: number, clicks: number, wins: number) => stats(id, clicks, wins, money ? { revenueMicros: wins * 1_000_000 } : {});
          const result = runKpi(input({ metric: money ? 'rpc' : 'cvr', goal: money ? goal / 100 : goal, algorithm: 'ranking', collection_threshold: 0 }, [row(1, clicksA, winsA), row(2, clicksB, winsB)]));
          expect(result.entries[0]?.score).toBe(result.entries[1]?.score);
          expect(result.model).toEqual({ algorithm: 'ranking', order: alpha > beta ? [1, 2] : [2, 1] });
        }),
      { numRuns: 300 },
    );
  });

  it('puts entries without clicks in the window after the scored ones, in priority order', () => {
    const run = input({ metric: 'cvr', algorithm: 'ranking', collection_threshold: 0 }, [stats(3, 100, 1)]);
    const entries = [{ id: 1, routingValue: 5, position: 0 }, { id: 2, routingValue: 1, position: 1 }, { id: 3, routingValue: 9, position: 2 }];
    expect(runKpi({ ...run, entries }).model).toEqual({ algorithm: 'ranking', order: [3, 2, 1] });
  });
});

describe('KPI collection phase and run bookkeeping', () => {
  it('below the collection threshold a run has no model, and clicks are drawn by weight', () => {
    const result = runKpi(input({ metric: 'cvr', collection_threshold: 1000 }, [stats(1, 500, 50), stats(2, 499, 0)]));
    expect(result).toMatchObject({ phase: 'collecting', model: null, winnerEntryId: null });

    const snapshot = snapshotOf({
      offers: [offer(1), offer(2)],
      smartLinks: [smartLink(1, [entry(1, 1, { routing_value: 3 }), entry(2, 2, { routing_value: 1 })], { routing: 'kpi', kpi: { metric: 'cvr' } })],
      kpiStates: [],
    });
    const counts = shares(snapshot, 40_000, 5);
    expect(Math.abs((counts.get(1) ?? 0) / 40_000 - 0.75)).toBeLessThan(0.01);
    const decision = decide(snapshot, 1, 1, US, allClear, seededRng(1));
    expect(decision?.kpi_run_id).toBeNull();
    expect(decision?.trace.kpi).toMatchObject({ phase: 'collecting', run_id: null, epoch: 0 });
  });

  it('while collecting, a link whose weights are all 0 splits evenly instead of matching nothing', () => {
    const snapshot = snapshotOf({
      offers: [offer(1), offer(2)],
      smartLinks: [smartLink(1, [entry(1, 1), entry(2, 2)], { routing: 'kpi', kpi: { metric: 'cvr' } })],
      kpiStates: [],
    });
    const counts = shares(snapshot, 20_000, 9);
    expect(Math.abs((counts.get(1) ?? 0) / 20_000 - 0.5)).toBeLessThan(0.015);
  });

  it('a window without clicks keeps the previous model', () => {
    const previous: KpiModel = { algorithm: 'ranking', order: [2, 1] };
    const run = input({ metric: 'cvr', algorithm: 'ranking', collection_threshold: 10 }, [], { clicksInEpoch: 5000, previous });
    const result = runKpi({ ...run, entries: [{ id: 1, routingValue: 1, position: 0 }, { id: 2, routingValue: 1, position: 1 }] });
    expect(result).toMatchObject({ phase: 'optimising', model: previous, keptPrevious: true, winnerEntryId: 2 });
  });

  it('a kept thompson model names the winner the run that made it named', () => {
    const made = runKpi(input({ metric: 'cvr', collection_threshold: 0 }, [stats(1, 2000, 20), stats(2, 2000, 60), stats(3, 2000, 30)]));
    expect(made.winnerEntryId).toBe(2);
    const kept = runKpi({ ...input({ metric: 'cvr', collection_threshold: 0 }, [], { clicksInEpoch: 6000, previous: made.model }), entries: [1, 2, 3].map((id, position) => ({ id, routingValue: 1, position })) });
    expect(kept).toMatchObject({ keptPrevious: true, model: made.model, winnerEntryId: 2 });
  });

  it('before its first model, a link past its threshold with no clicks to learn from keeps collecting', () => {
    for (const algorithm of ['ranking', 'thompson'] as const) {
      const run = input({ metric: 'cvr', algorithm, collection_threshold: 0 }, [], { clicksInEpoch: 0 });
      const result = runKpi({ ...run, entries: [{ id: 1, routingValue: 90, position: 0 }, { id: 2, routingValue: 10, position: 1 }] });
      expect(result, algorithm).toMatchObject({ phase: 'collecting', model: null, winnerEntryId: null });
    }
  });

  it('the threshold gates only the first model: raised on an optimising link, the next run still optimises', () => {
    for (const algorithm of ['ranking', 'thompson'] as const) {
      const first = runKpi(input({ metric: 'cvr', algorithm, collection_threshold: 100 }, [stats(1, 80, 2), stats(2, 80, 6)]));
      expect(first.phase, algorithm).toBe('optimising');
      // The threshold is raised past the epoch's 160 + 20 clicks.
      const next = runKpi(input({ metric: 'cvr', algorithm, collection_threshold: 5000 }, [stats(1, 90, 2), stats(2, 90, 7)], { previous: first.model }));
      expect(next, algorithm).toMatchObject({ phase: 'optimising', keptPrevious: false, winnerEntryId: 2 });
    }
  });

  it('is deterministic: the same window gives the same run record', () => {
    const run = input({ metric: 'revenue', collection_threshold: 0 }, [
      stats(1, 900, 20, { revenueMicros: 200_000_000 }), stats(2, 700, 9, { revenueMicros: 150_000_000 }),
    ]);
    expect(runKpi(run)).toEqual(runKpi(run));
  });
});

describe('KPI thompson', () => {
  const clearWinner = [stats(1, 2000, 100), stats(2, 2000, 20), stats(3, 2000, 18), stats(4, 2000, 22)];

  it('sends more than 90 % of eligible clicks to a clearly better entry', () => {
    const settings: KpiSettings = { metric: 'cvr', algorithm: 'thompson', collection_threshold: 0 };
    const result = runKpi(input(settings, clearWinner));
    expect(result.winnerEntryId).toBe(1);
    const snapshot = kpiSnapshot(settings, result.model, 4);
    const counts = shares(snapshot, 10_000, 11);
    expect((counts.get(1) ?? 0) / 10_000).toBeGreaterThan(0.9);
  });

  it('the trace names the algorithm of the model in force, which may predate a switch of the setting', () => {
    const model = runKpi(input({ metric: 'cvr', algorithm: 'thompson', collection_threshold: 0 }, clearWinner)).model;
    // Switched to ranking; the thompson model routes until the next run.
    const snapshot = kpiSnapshot({ metric: 'cvr', algorithm: 'ranking', collection_threshold: 0 }, model, 4);
    const decision = decide(snapshot, 1, 1, US, allClear, seededRng(3), { traceAll: true });
    expect(decision?.trace.kpi).toMatchObject({ phase: 'optimising', algorithm: 'thompson' });
    expect(decision?.trace.kpi?.samples).toHaveLength(4);
  });

  it('a model stored with goal 0 (before 0 meant no goal) does not steer clicks to the worst entry', () => {
    const settings: KpiSettings = { metric: 'cvr', algorithm: 'thompson', goal: 0, collection_threshold: 0 };
    const computed = runKpi(input(settings, clearWinner)).model;
    expect(computed?.algorithm).toBe('thompson');
    const stored = { ...(computed as Extract<KpiModel, { algorithm: 'thompson' }>), goal: 0 };
    const counts = shares(kpiSnapshot(settings, stored, 4), 2_000, 5);
    expect((counts.get(1) ?? 0) / 2_000).toBeGreaterThan(0.9);
  });

  it('an events-per-click model stored before the Gamma posterior (a Beta one) still steers clicks toward the goal', () => {
    // What the previous version stored for entry 1 at 100 % EVR (2,000 events on 2,000 clicks) and
    // entry 2 at 50 % (1,000 on 2,000), goal 100 %: Beta posteriors of a proportion. Read as Gamma
    // shape and rate, entry 1 looked like 200,000 % and entry 2 exactly on the goal.
    const settings: KpiSettings = { metric: 'evr', algorithm: 'thompson', goal: 100, collection_threshold: 0 };
    const stored: KpiModel = {
      algorithm: 'thompson', metric: 'evr', goal: 100,
      posteriors: [
        { entryId: 1, alpha: 32016, beta: 16, valueMean: null, valueSd: null },
        { entryId: 2, alpha: 16016, beta: 16016, valueMean: null, valueSd: null },
      ],
    };
    const counts = shares(kpiSnapshot(settings, stored, 2), 2_000, 5);
    expect((counts.get(1) ?? 0) / 2_000).toBeGreaterThan(0.9);
    // The run that keeps it (a window without clicks) names the same winner.
    const kept = runKpi(input(settings, [], { clicksInEpoch: 4000, previous: stored, entries: [1, 2].map((id, position) => ({ id, routingValue: 1, position })) }));
    expect(kept).toMatchObject({ keptPrevious: true, winnerEntryId: 1 });
    // A model the current version computes from the same traffic agrees.
    const rows = [stats(1, 2000, 2000, { events: 2000 }), stats(2, 2000, 1000, { events: 1000 })];
    const computed = runKpi(input(settings, rows)).model;
    expect((shares(kpiSnapshot(settings, computed, 2), 2_000, 5).get(1) ?? 0) / 2_000).toBeGreaterThan(0.9);
  });

  it('never routes a click to an entry the visitor is not eligible for, however good its posterior', () => {
    const settings: KpiSettings = { metric: 'cvr', algorithm: 'thompson', collection_threshold: 0 };
    const model = runKpi(input(settings, clearWinner)).model;
    const snapshot = kpiSnapshot(settings, model, 4, { 1: { ruleset: deOnly } });
    const counts = shares(snapshot, 5_000, 12, US);
    expect(counts.get(1)).toBeUndefined();
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(5_000);
  });

  it('property: the winner is always eligible, and there is one whenever any entry is eligible', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ clicks: fc.integer({ min: 0, max: 5000 }), rate: fc.double({ min: 0, max: 0.5, noNaN: true }), german: fc.boolean() }), { minLength: 1, maxLength: 12 }),
        fc.integer(),
        (rows, seed) => {
          const settings: KpiSettings = { metric: 'cvr', algorithm: 'thompson', collection_threshold: 0 };
          const window = rows.map((r, i) => stats(i + 1, r.clicks, Math.floor(r.clicks * r.rate)));
          const model = runKpi(input(settings, window)).model;
          // A window without clicks leaves weight routing in force: no model, no samples.
          expect(model === null).toBe(rows.every((r) => r.clicks === 0));
          const fields = Object.fromEntries(rows.map((r, i) => [i + 1, { ruleset: r.german ? deOnly : usOnly }]));
          const snapshot = kpiSnapshot(settings, model, rows.length, fields);
          const decision = decide(snapshot, 1, 1, US, allClear, seededRng(seed));
          const eligible = rows.flatMap((r, i) => (r.german ? [] : [i + 1]));
          if (eligible.length === 0) expect(decision?.entry_id).toBeNull();
          else expect(eligible).toContain(decision?.entry_id);
          if (model !== null) expect(decision?.trace.kpi?.samples.map((s) => s.entry_id)).toEqual(eligible);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('with a goal, the entry whose metric is closest to it wins most clicks', () => {
    const settings: KpiSettings = { metric: 'cvr', algorithm: 'thompson', goal: 2, collection_threshold: 0 };
    const result = runKpi(input(settings, [stats(1, 3000, 60), stats(2, 3000, 150), stats(3, 3000, 15)]));
    expect(result.winnerEntryId).toBe(1);
    const counts = shares(kpiSnapshot(settings, result.model, 3), 5_000, 13);
    expect((counts.get(1) ?? 0) / 5_000).toBeGreaterThan(0.9);
  });

  it('values clicks by what they earn: a rarer but richer conversion wins on revenue', () => {
    // Entry 1: 5 % × 10 = 0.50 per click; entry 2: 1 % × 100 = 1.00 per click.
    const settings: KpiSettings = { metric: 'revenue', algorithm: 'thompson', collection_threshold: 0 };
    const result = runKpi(input(settings, [
      stats(1, 5000, 250, { revenueMicros: 2_500_000_000 }), stats(2, 5000, 50, { revenueMicros: 5_000_000_000 }),
    ]));
    expect(result.winnerEntryId).toBe(2);
    const posterior = result.entries.find((e) => e.entry_id === 2)?.posterior;
    expect(posterior && meanMetric('revenue', posterior)).toBeCloseTo(1.0, 1);
  });

  it('corrects for conversions that have not arrived yet, with the link\'s own delays', () => {
    // Both entries convert at 2 % after a delay of 10 hours. Entry 1's clicks are 30 hours old
    // (every conversion is in); entry 2's are 2 hours old: only ~1 in 5 have had time to arrive.
    const delays = Array.from({ length: 200 }, (_, i) => (i < 40 ? 1 : 10) * HOUR);
    const hour = (ageMs: number, clicks: number, conversions: number) => ({ ageMs, clicks, conversions, events: 0, revenueMicros: 0, payoutMicros: 0 });
    const old = stats(1, 5000, 100, { hours: [hour(30 * HOUR, 5000, 100)] });
    const recent = stats(2, 5000, 20, { hours: [hour(2 * HOUR, 5000, 20)] });
    const settings: KpiSettings = { metric: 'cvr', algorithm: 'thompson', collection_threshold: 0 };
    const mean = (run: KpiRunInput, id: number) => {
      const posterior = runKpi(run).entries.find((e) => e.entry_id === id)?.posterior;
      if (!posterior) throw new Error('no posterior');
      return meanMetric('cvr', posterior);
    };
    const corrected = input(settings, [old, recent], { conversionDelaysMs: delays });
    const uncorrected = input(settings, [old, recent]);
    expect(mean(uncorrected, 2) / mean(uncorrected, 1)).toBeLessThan(0.3);
    expect(mean(corrected, 2) / mean(corrected, 1)).toBeGreaterThan(0.8);
    expect(mean(corrected, 2) / mean(corrected, 1)).toBeLessThan(1.25);
  });

  const hour = (ageHours: number, clicks: number, conversions: number) => ({ ageMs: ageHours * HOUR, clicks, conversions, events: 0, revenueMicros: 0, payoutMicros: 0 });
  const thompsonRun = (rows: EntryWindowStats[]) => {
    const result = runKpi(input({ metric: 'cvr', algorithm: 'thompson', collection_threshold: 0, lookback_hours: 24 }, rows));
    const posterior = (id: number) => {
      const found = result.entries.find((e) => e.entry_id === id)?.posterior;
      if (!found) throw new Error(`no posterior for entry ${id}`);
      return found;
    };
    return { result, posterior };
  };

  // Valid for entries with enough conversions to be sharpened in full (see the thin-evidence test).
  const successesOf = (posterior: { alpha: number }) => posterior.alpha / POSTERIOR_SHARPENING - 1;

  it('keeps trying an entry whose few clicks happened not to convert, but not one clearly worse on real evidence', () => {
    // Entry 2's 100 clicks without a conversion are what a 2 % entry does one time in eight;
    // entry 3's 1 % over 3,000 clicks is no such accident.
    const { result, posterior } = thompsonRun([stats(1, 3000, 60), stats(2, 100, 0), stats(3, 3000, 30)]);
    const shareOf = (id: number) => result.entries.find((e) => e.entry_id === id)?.expected_share ?? 0;
    expect(result.winnerEntryId).toBe(1);
    expect(shareOf(2)).toBeGreaterThan(0.02);
    expect(shareOf(3)).toBeLessThan(0.001);
    // The thin posterior is the honest one: prior plus evidence, not multiplied.
    expect(posterior(2).alpha).toBeCloseTo(1, 9);
  });

  it('on a link with many entries, stops splitting clicks between two well-measured close entries sooner', () => {
    // 3 % against 2.9 % over 3,000 clicks each: on five entries the runner-up still wins a share
    // of the draws; on twenty, where every entry's exploration adds up, the leader takes nearly all.
    const close = [stats(1, 3000, 90), stats(2, 3000, 87)];
    const poor = (from: number, count: number) => Array.from({ length: count }, (_, i) => stats(from + i, 3000, 30));
    const runnerUpShare = (rows: EntryWindowStats[]) => thompsonRun(rows).result.entries.find((e) => e.entry_id === 2)?.expected_share ?? 0;
    expect(runnerUpShare([...close, ...poor(3, 3)])).toBeGreaterThan(0.05);
    expect(runnerUpShare([...close, ...poor(3, 18)])).toBeLessThan(0.01);
  });

  it('remembers beyond the window: older hours count in full while rates hold', () => {
    // Entry 1 converted at 2 % two days ago and at 2 % now; entry 2 only has the recent hours.
    const steady = stats(1, 2000, 40, { hours: [hour(50, 2000, 40), hour(2, 2000, 40)] });
    const recentOnly = stats(2, 2000, 40, { hours: [hour(2, 2000, 40)] });
    const { posterior } = thompsonRun([steady, recentOnly]);
    // Both centre on 2 %; the older hours add their evidence (a tighter posterior).
    expect(successesOf(posterior(1))).toBeCloseTo(2 * successesOf(posterior(2)), 6);
    expect(meanMetric('cvr', posterior(1))).toBeCloseTo(meanMetric('cvr', posterior(2)), 1);
  });

  it('forgets an entry\'s older hours at once when its recent rate clearly changed', () => {
    // Entry 1 converted at 5 % two days ago and at 1 % in the last hours; entry 2 steadily at 3 %.
    const dropped = stats(1, 3000, 30, { hours: [hour(50, 3000, 150), hour(2, 3000, 30)] });
    const steady = stats(2, 3000, 90, { hours: [hour(50, 3000, 90), hour(2, 3000, 90)] });
    const { result, posterior } = thompsonRun([dropped, steady]);
    expect(meanMetric('cvr', posterior(1))).toBeLessThan(1.2);
    expect(result.winnerEntryId).toBe(2);
  });

  it('after one entry clearly changed, an entry without traffic since then falls back to the prior', () => {
    // Entry 1 dropped from 5 % to 1 %; entry 3 looked poor two days ago and has had no clicks since.
    const dropped = stats(1, 3000, 30, { hours: [hour(50, 3000, 150), hour(2, 3000, 30)] });
    const steady = stats(2, 3000, 90, { hours: [hour(50, 3000, 90), hour(2, 3000, 90)] });
    const starved = stats(3, 0, 0, { hours: [hour(50, 1000, 5)] });
    const { result, posterior } = thompsonRun([dropped, steady, starved]);
    // Its old 0.5 % no longer holds it down: no evidence left, the prior alone.
    expect(posterior(3).alpha).toBeCloseTo(1, 9);
    expect(result.entries.find((e) => e.entry_id === 3)?.effective_clicks).toBe(0);
    expect(meanMetric('cvr', posterior(3))).toBeGreaterThan(1);
  });

  it('keeps every hour since a change, even a change older than the lookback', () => {
    // Entry 1 converted at 5 % sixty hours ago and at 1 % in three stretches since, the oldest 40
    // hours ago (beyond the 24-hour lookback); entry 2 converted at 3 % throughout.
    const dropped = stats(1, 3000, 30, { hours: [hour(60, 3000, 150), hour(40, 3000, 30), hour(20, 3000, 30), hour(2, 3000, 30)] });
    const steady = stats(2, 3000, 90, { hours: [hour(60, 3000, 90), hour(40, 3000, 90), hour(20, 3000, 90), hour(2, 3000, 90)] });
    const { result, posterior } = thompsonRun([dropped, steady]);
    // The 5 % hours are gone; all three 1 % stretches (90 conversions) count, and so do entry 2's.
    expect(successesOf(posterior(1))).toBeCloseTo(90, 6);
    expect(successesOf(posterior(2))).toBeCloseTo(270, 6);
    expect(result.entries.find((e) => e.entry_id === 1)?.effective_clicks).toBe(9000);
    expect(result.winnerEntryId).toBe(2);
  });

  describe('the time before the hourly history', () => {
    const settings: KpiSettings = { metric: 'cvr', algorithm: 'thompson', collection_threshold: 0, lookback_hours: 24 };
    const outcomes = (entryId: number, clicks: number, conversions: number) => ({ entryId, clicks, conversions, events: 0, revenueMicros: 0, payoutMicros: 0 });
    const refs = [1, 2].map((id, position) => ({ id, routingValue: 1, position }));
    // Entry 1 has converted at 3 % all along; entry 2 was starved a week ago after 3,000 clicks at 1 %.
    const leader = stats(1, 3000, 90, { hours: [hour(30, 3000, 90), hour(2, 3000, 90)] });
    const starved = { until: '2026-03-02T00:00:00.000Z', entries: [outcomes(2, 3000, 30)] };
    const runWith = (earlier: KpiRunInput['earlier'], rows: EntryWindowStats[] = [leader]) => runKpi(input(settings, rows, { entries: refs, earlier }));
    const entryOf = (result: ReturnType<typeof runKpi>, id: number) => result.entries.find((e) => e.entry_id === id);

    it('keeps an entry starved before the history as well measured as it was, and carries the sums on', () => {
      const forgotten = runWith(null);
      const remembered = runWith({ outcomes: starved, ageMs: 150 * HOUR });
      // Without the earlier sums entry 2 is back to the prior and wins a good share of the draws.
      expect(entryOf(forgotten, 2)?.expected_share).toBeGreaterThan(0.05);
      expect(entryOf(remembered, 2)?.expected_share).toBeLessThan(0.001);
      expect(entryOf(remembered, 2)?.posterior?.alpha).toBeCloseTo(sharpeningFor(30, 2) * (1 + 30), 6);
      expect(entryOf(remembered, 2)?.effective_clicks).toBe(3000);
      expect(remembered.model).toMatchObject({ algorithm: 'thompson', earlier: starved });
      expect(forgotten.model).not.toHaveProperty('earlier');
    });

    it('fades every hour by its age, and folds the same sums whether the hours age out a run at a time or at once', () => {
      const T0 = Date.UTC(2026, 2, 1);
      const iso = (hour: number) => new Date(T0 + hour * HOUR).toISOString();
      const row = fc.record({ entryId: fc.integer({ min: 1, max: 3 }), hour: fc.integer({ min: 0, max: 47 }), clicks: fc.integer({ min: 1, max: 500 }), conversions: fc.integer({ min: 0, max: 20 }) });
      fc.assert(fc.property(fc.array(row, { maxLength: 60 }), fc.uniqueArray(fc.integer({ min: 1, max: 48 }), { minLength: 1, maxLength: 6 }), (rows, cuts) => {
        const aged = (from: number, to: number) => rows.filter((r) => r.hour >= from && r.hour < to)
          .map((r) => ({ entryId: r.entryId, endMs: T0 + (r.hour + 1) * HOUR, clicks: r.clicks, conversions: r.conversions, events: 0, revenueMicros: 0, payoutMicros: 0 }));
        const untils = [...cuts].sort((a, b) => a - b);
        let carried: EarlierOutcomes | null = null;
        let from = 0;
        for (const until of untils) {
          carried = foldEarlier(carried, aged(from, until), iso(until));
          from = until;
        }
        const atOnce = foldEarlier(null, aged(0, from), iso(from));
        expect(carried?.until).toBe(atOnce.until);
        expect(carried?.entries.map((e) => e.entryId)).toEqual(atOnce.entries.map((e) => e.entryId));
        atOnce.entries.forEach((sum, i) => {
          // Each hour weighs EARLIER_FADE_PER_HOUR for every hour between its end and `until`.
          const faded = (pick: (r: (typeof rows)[number]) => number) => rows
            .filter((r) => r.entryId === sum.entryId && r.hour < from)
            .reduce((total, r) => total + pick(r) * EARLIER_FADE_PER_HOUR ** (from - r.hour - 1), 0);
          expect(sum.clicks).toBeCloseTo(faded((r) => r.clicks), 6);
          expect(sum.conversions).toBeCloseTo(faded((r) => r.conversions), 6);
          expect(carried?.entries[i]?.clicks).toBeCloseTo(sum.clicks, 6);
          expect(carried?.entries[i]?.conversions).toBeCloseTo(sum.conversions, 6);
        });
      }));
    });

    it('drops it like any other hour once the entry\'s rate has clearly changed since', () => {
      // Entry 2 converted at 5 % before the history and at 1 % in it: only the 1 % hours count.
      const changed = stats(2, 3000, 30, { hours: [hour(100, 3000, 30), hour(2, 3000, 30)] });
      const before = { until: '2026-03-02T00:00:00.000Z', entries: [outcomes(1, 3000, 90), outcomes(2, 3000, 150)] };
      const result = runWith({ outcomes: before, ageMs: 150 * HOUR }, [leader, changed]);
      expect(entryOf(result, 2)?.posterior?.alpha).toBeCloseTo(sharpeningFor(60, 2) * (1 + 60), 6);
      expect(entryOf(result, 2)?.effective_clicks).toBe(6000);
    });
  });

  it('explain-style traces show each eligible entry\'s draw and the winner has the best score', () => {
    const settings: KpiSettings = { metric: 'cvr', algorithm: 'thompson', collection_threshold: 0 };
    const snapshot = kpiSnapshot(settings, runKpi(input(settings, clearWinner)).model, 4);
    const decision = decide(snapshot, 1, 1, US, allClear, seededRng(42), { traceAll: true });
    const samples = decision?.trace.kpi?.samples ?? [];
    expect(samples).toHaveLength(4);
    const best = samples.reduce((a, b) => (b.score > a.score ? b : a));
    expect(decision?.entry_id).toBe(best.entry_id);
    expect(decision?.kpi_run_id).toBe(7);
    // The same seed replays the same draws.
    expect(decide(snapshot, 1, 1, US, allClear, seededRng(42), { traceAll: true })?.trace.kpi).toEqual(decision?.trace.kpi);
  });

  it('a lean decision draws the same samples and picks the same entry, without listing them', () => {
    const settings: KpiSettings = { metric: 'cvr', algorithm: 'thompson', collection_threshold: 0 };
    // Close entries with little evidence: the draws, not the data, decide most clicks.
    const close = [stats(1, 200, 4), stats(2, 200, 5), stats(3, 200, 3), stats(4, 200, 4)];
    const snapshot = kpiSnapshot(settings, runKpi(input(settings, close)).model, 4);
    const traced = seededRng(9);
    const lean = seededRng(9);
    const chosen = new Set<number | null>();
    for (let click = 0; click < 200; click++) {
      const full = decide(snapshot, 1, 1, US, allClear, traced);
      const quick = decide(snapshot, 1, 1, US, allClear, lean, { lean: true });
      expect(quick?.entry_id).toBe(full?.entry_id);
      expect(quick?.kpi_run_id).toBe(7);
      expect(quick?.trace.kpi?.samples).toEqual([]);
      chosen.add(full?.entry_id ?? null);
    }
    // Not a constant: the draws really decide, and both streams stayed in step throughout.
    expect(chosen.size).toBeGreaterThan(2);
  });
});

describe('samplers', () => {
  const meanOf = (draw: () => number, n: number) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += draw();
    return sum / n;
  };

  it.each([[0.3, 1], [1, 1], [2.5, 1], [40, 1]])('Gamma(%f) has mean equal to its shape', (shape) => {
    const rng = seededRng(3);
    expect(meanOf(() => sampleGamma(shape, rng), 40_000)).toBeCloseTo(shape, shape > 10 ? 0 : 1);
  });

  it.each([[1, 1], [2, 98], [0.5, 0.5], [30, 15_000]])('Beta(%f, %f) has mean alpha / (alpha + beta) and stays in [0, 1]', (alpha, beta) => {
    const rng = seededRng(4);
    const draws = Array.from({ length: 40_000 }, () => sampleBeta(alpha, beta, rng));
    expect(draws.every((x) => x >= 0 && x <= 1)).toBe(true);
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    expect(Math.abs(mean - alpha / (alpha + beta))).toBeLessThan(0.01 * Math.max(1, (alpha / (alpha + beta)) * 10));
  });
});
