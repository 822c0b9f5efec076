import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startServer, tempDir, type TestServer } from '../support/api-server.js';
import { clickOn, transactionIdIn } from '../support/clicks.js';
import { testClock } from '../support/clock.js';
import { postback } from '../support/conversions.js';
import { create } from '../support/fixtures.js';
import { kpiNetwork, type KpiNetwork } from './network.js';

/**
 * SPEC §5 "exactly one node runs it in a cluster", and the README's promise that a process whose
 * lease expired while it was held up cannot disturb the runs of the process that took over. Two
 * servers share one database; each has its own clock, so the test decides when each one ticks.
 */

const clockA = testClock('2030-03-04T10:15:00.000Z');
const clockB = testClock('2030-03-04T10:15:00.000Z');
const setBoth = (iso: string) => {
  clockA.set(iso);
  clockB.set(iso);
};
let a: TestServer;
let b: TestServer;
let net: KpiNetwork;

beforeAll(async () => {
  const dataDir = tempDir();
  const env = { SQLITE_SYNCHRONOUS: 'normal', POSTBACK_CONCURRENCY: '0' };
  a = await startServer({ dataDir, now: clockA.now, env });
  b = await startServer({ dataDir, now: clockB.now, env });
  net = await kpiNetwork(a);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
});

describe('a KPI leader held up past its lease', () => {
  it('does not put the model of an older slot in force over the newer run of the process that took over', async () => {
    const only = (other: string) => ({ rules: [{ dimension: 'sub1', op: 'exclude', values: [other] }] });
    const link = await create(a, '/api/v1/smart-links', {
      name: 'KPI', routing: 'kpi',
      kpi: { metric: 'cvr', algorithm: 'ranking', run_frequency_hours: 1, lookback_hours: 12, collection_threshold: 0 },
      entries: [{ offer_id: net.offers.a, routing_value: 1, ruleset: only('b') }, { offer_id: net.offers.b, routing_value: 1, ruleset: only('a') }],
    });
    const token = (await a.call('POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: net.partnerId })).body.token;
    for (const sub1 of ['a', 'b']) {
      const tid = transactionIdIn((await clickOn(a.url, token, { sub1 })).location);
      if (sub1 === 'a') expect((await postback(a, { transaction_id: tid })).body.status).toBe('approved');
    }
    // Paused over the 11:00 slot, resumed just before 12:00: the 11:00 slot is due, and has no run.
    setBoth('2030-03-04T10:30:00.000Z');
    expect((await a.call('PATCH', `/api/v1/smart-links/${link.id}`, { status: 'paused' })).status).toBe(200);
    setBoth('2030-03-04T11:58:50.000Z');
    expect((await a.call('PATCH', `/api/v1/smart-links/${link.id}`, { status: 'active' })).status).toBe(200);

    // A takes the lease at 11:59 and starts the 11:00 run, then is held up (a long tick, a stalled process).
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let reached = false;
    const read = a.store.kpiStats.clickHours.bind(a.store.kpiStats);
    const reads = vi.spyOn(a.store.kpiStats, 'clickHours').mockImplementationOnce(async (...args) => {
      reached = true;
      await held;
      return read(...args);
    });
    setBoth('2030-03-04T11:59:00.000Z');
    const slowTick = a.kpiScheduler.tick();
    while (!reached) await new Promise((resolve) => setTimeout(resolve, 5));
    reads.mockRestore();

    // A's lease (three minutes at the default interval) has expired: B leads and runs the 12:00 slot.
    setBoth('2030-03-04T12:02:30.000Z');
    const tickB = await b.kpiScheduler.tick();
    expect(tickB.leader).toBe(true);
    const newer = tickB.runs.find((r) => r.smart_link_id === link.id);
    expect(newer).toMatchObject({ slot_at: '2030-03-04T12:00:00.000Z', phase: 'optimising' });

    // A resumes and finishes its older run.
    release();
    await slowTick;
    const state = (await b.call('GET', `/api/v1/smart-links/${link.id}/kpi`)).body;
    expect(state.model_run_id).toBe(newer?.id);
    const record = (await b.call('GET', `/api/v1/smart-links/${link.id}/kpi/runs`)).body.data;
    expect(record.filter((line: { kind: string }) => line.kind === 'run').map((line: { slot_at: string }) => line.slot_at)).toEqual(['2030-03-04T12:00:00.000Z']);
  });
});
