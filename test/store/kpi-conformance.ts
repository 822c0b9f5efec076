import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KpiRunRecord } from '../../src/domain/kpi.js';
import type { Store } from '../../src/ports/store.js';

/**
 * The storage guarantees the KPI scheduler relies on (SPEC §5), written against the port: one run
 * per link and slot whoever writes it, a run never puts its model in force in a later epoch, and a
 * lease has one holder at a time. Each adapter's test file calls this with a factory that opens a
 * fresh, empty store.
 */
export function kpiStoreConformance(adapter: string, open: () => Promise<Store>): void {
  describe(`${adapter} KPI store conformance`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => store?.close());

    const reset = (smartLinkId: number, at: string) =>
      store.transaction((tx) => tx.kpi.reset({ smartLinkId, reason: 'manual', at, algorithm: 'ranking', metric: 'cvr', goal: null }));

    function run(smartLinkId: number, epoch: number, slot: string, order: number[]): Omit<KpiRunRecord, 'id'> & { kind: 'run'; slot_at: string } {
      return {
        smart_link_id: smartLinkId, epoch, kind: 'run', run_at: slot, slot_at: slot, window_from: slot, window_to: slot,
        algorithm: 'ranking', metric: 'cvr', goal: null, phase: 'optimising', clicks_in_epoch: 10, kept_previous: false, entries: [],
        model: { algorithm: 'ranking', order }, winner_entry_id: order[0] ?? null, previous_winner_entry_id: null, reset_reason: null,
      };
    }

    it('a second run for the same link and slot is dropped, and the first one stays in force', async () => {
      await reset(1, '2030-01-01T00:10:00.000Z');
      const first = await store.transaction((tx) => tx.kpi.appendRun({ run: run(1, 1, '2030-01-01T01:00:00.000Z', [2, 1]), keptModelRunId: null }));
      const second = await store.transaction((tx) => tx.kpi.appendRun({ run: run(1, 1, '2030-01-01T01:00:00.000Z', [1, 2]), keptModelRunId: null }));
      expect(first).not.toBeNull();
      expect(second).toBeNull();
      expect(await store.kpi.getState(1)).toMatchObject({ epoch: 1, model: { algorithm: 'ranking', order: [2, 1] }, model_run_id: first?.id });
      const runs = await store.kpi.listRuns({ smartLinkId: 1, page: 1, pageSize: 10 });
      expect(runs.rows.filter((r) => r.kind === 'run')).toHaveLength(1);
    });

    it('a run computed for an epoch that has since been reset is not stored', async () => {
      await reset(2, '2030-01-01T00:10:00.000Z');
      await reset(2, '2030-01-01T00:30:00.000Z');
      const stale = await store.transaction((tx) => tx.kpi.appendRun({ run: run(2, 1, '2030-01-01T01:00:00.000Z', [5]), keptModelRunId: null }));
      expect(stale).toBeNull();
      expect(await store.kpi.getState(2)).toMatchObject({ epoch: 2, model: null, model_run_id: null });
      expect(await store.kpi.hasRun(2, '2030-01-01T01:00:00.000Z')).toBe(false);
    });

    it('a run that keeps the previous model leaves the earlier run in force', async () => {
      await reset(3, '2030-01-01T00:10:00.000Z');
      const first = await store.transaction((tx) => tx.kpi.appendRun({ run: run(3, 1, '2030-01-01T01:00:00.000Z', [7]), keptModelRunId: null }));
      const kept = await store.transaction((tx) =>
        tx.kpi.appendRun({ run: { ...run(3, 1, '2030-01-01T02:00:00.000Z', [7]), kept_previous: true }, keptModelRunId: first?.id ?? null }));
      expect(kept).not.toBeNull();
      expect(await store.kpi.getState(3)).toMatchObject({ model_run_id: first?.id, last_run_at: '2030-01-01T02:00:00.000Z' });
    });

    it('a lease has one holder until it expires; its holder renews it and may hand it back', async () => {
      expect(await store.kpi.acquireLease('job', 'p1', 1000, 2000)).toBe(true);
      expect(await store.kpi.acquireLease('job', 'p2', 1500, 2500)).toBe(false);
      expect(await store.kpi.acquireLease('job', 'p1', 1900, 3000)).toBe(true);
      expect(await store.kpi.acquireLease('job', 'p2', 2999, 4000)).toBe(false);
      expect(await store.kpi.acquireLease('job', 'p2', 3000, 4000)).toBe(true);
      expect(await store.kpi.acquireLease('job', 'p1', 3500, 4500)).toBe(false);
      await store.kpi.releaseLease('job', 'p2');
      expect(await store.kpi.acquireLease('job', 'p1', 3600, 4600)).toBe(true);
    });
  });
}
