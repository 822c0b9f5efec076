import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/api-server.js';
import { clickOn, transactionIdIn } from '../support/clicks.js';
import { testClock } from '../support/clock.js';
import { postback } from '../support/conversions.js';
import { create } from '../support/fixtures.js';
import { hostOf, kpiNetwork, type KpiNetwork } from './network.js';

/**
 * KPI runs at the edges of their input (SPEC §5): a run with nothing to learn from, clicks that
 * were turned away, a window that empties after a model was made, and a link that is not running.
 */

const HOUR_MS = 3_600_000;
const clock = testClock('2030-03-04T10:15:00.000Z');
let server: TestServer;
let net: KpiNetwork;

beforeAll(async () => {
  server = await startServer({ now: clock.now, env: { SQLITE_SYNCHRONOUS: 'normal', POSTBACK_CONCURRENCY: '0' } });
  net = await kpiNetwork(server);
});
afterAll(async () => server?.close());

const RANKING = { metric: 'cvr', algorithm: 'ranking', run_frequency_hours: 1, lookback_hours: 12 };

async function rankingLink(collectionThreshold: number, extra: Record<string, unknown> = {}) {
  const link = await create(server, '/api/v1/smart-links', {
    name: `KPI ${Math.random()}`,
    routing: 'kpi',
    kpi: { ...RANKING, collection_threshold: collectionThreshold },
    entries: [{ offer_id: net.offers.a, routing_value: 90 }, { offer_id: net.offers.b, routing_value: 10 }],
    ...extra,
  });
  const token = (await server.call('POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: net.partnerId })).body.token as string;
  return { link, token };
}

/** Moves the clock to 30 s into the next hourly slot and ticks; the link's run of that tick, if any. */
async function nextSlotRun(linkId: number) {
  clock.set(new Date((Math.floor(clock.now() / HOUR_MS) + 1) * HOUR_MS + 30_000).toISOString());
  return (await server.kpiScheduler.tick()).runs.find((r) => r.smart_link_id === linkId);
}

async function hosts(token: string, n: number): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < n; i++) seen.push(hostOf((await clickOn(server.url, token)).location));
  return seen;
}

describe('KPI runs at the edges', () => {
  it('a run whose window holds no clicks does not replace weight routing by a ranking made of nothing', async () => {
    // Threshold 0, and the first slot passes before any traffic arrives.
    const { link, token } = await rankingLink(0);
    const run = await nextSlotRun(link.id);
    expect(run?.entries.every((e) => e.clicks === 0)).toBe(true);
    expect(run).toMatchObject({ phase: 'collecting', model: null, winner_entry_id: null });
    // Nothing was measured: A (weight 90) and B (weight 10) must still share by weight, not B taking every click.
    const seen = await hosts(token, 40);
    expect(seen.filter((h) => h === 'a').length).toBeGreaterThan(20);
  });

  it('clicks a paused link turns away (invalid, reason 901) do not count toward the collection threshold', async () => {
    const { link, token } = await rankingLink(5, { status: 'paused' });
    for (let i = 0; i < 6; i++) expect((await clickOn(server.url, token)).status).toBe(200);
    expect((await server.call('PATCH', `/api/v1/smart-links/${link.id}`, { status: 'active' })).status).toBe(200);
    const run = await nextSlotRun(link.id);
    expect(run).toMatchObject({ clicks_in_epoch: 0, phase: 'collecting', model: null });
  });

  it('a run that keeps the model in force names the winner of that model', async () => {
    const { link, token } = await rankingLink(0);
    await hosts(token, 4);
    const computed = await nextSlotRun(link.id);
    expect(computed).toMatchObject({ phase: 'optimising', kept_previous: false });
    expect(computed?.winner_entry_id).not.toBeNull();
    // Thirteen hours on, the 12-hour window holds no clicks: the model (and its winner) stays in force.
    clock.advance(12 * HOUR_MS);
    const kept = await nextSlotRun(link.id);
    expect(kept).toMatchObject({ phase: 'optimising', kept_previous: true, model: computed?.model });
    expect(kept?.winner_entry_id).toBe(computed?.winner_entry_id);
  });

  it('a paused link announces no next run (the scheduler runs active links only); resumed, it does', async () => {
    const { link } = await rankingLink(0, { status: 'paused' });
    await nextSlotRun(link.id);
    clock.advance(20 * 60_000);
    expect((await server.call('GET', `/api/v1/smart-links/${link.id}/kpi`)).body.next_run_at).toBeNull();
    expect((await server.call('PATCH', `/api/v1/smart-links/${link.id}`, { status: 'active' })).status).toBe(200);
    expect(Date.parse((await server.call('GET', `/api/v1/smart-links/${link.id}/kpi`)).body.next_run_at)).toBeGreaterThan(clock.now() - HOUR_MS);
  });
});

describe('a ranking with a goal', () => {
  it('two entries equally far from the goal on either side tie, and the tie goes to the entry with more clicks', async () => {
    // Goal 50 %: A converts 1 of 3 clicks (33.3 %), B 4 of 6 (66.7 %), both 16.7 points away.
    const only = (other: string) => ({ rules: [{ dimension: 'sub1', op: 'exclude', values: [other] }] });
    const { link, token } = await rankingLink(0, {
      kpi: { ...RANKING, goal: 50, collection_threshold: 0 },
      entries: [{ offer_id: net.offers.a, routing_value: 1, ruleset: only('b') }, { offer_id: net.offers.b, routing_value: 1, ruleset: only('a') }],
    });
    const [entryA, entryB] = link.entries.map((e: { id: number }) => e.id);
    const clicks = async (sub1: string, n: number) => {
      const tids: string[] = [];
      for (let i = 0; i < n; i++) tids.push(transactionIdIn((await clickOn(server.url, token, { sub1 })).location));
      return tids;
    };
    const a = await clicks('a', 3);
    const b = await clicks('b', 6);
    for (const tid of [...a.slice(0, 1), ...b.slice(0, 4)]) expect((await postback(server, { transaction_id: tid })).body.status).toBe('approved');
    const run = await nextSlotRun(link.id);
    const scoreOf = (id: number) => run?.entries.find((e) => e.entry_id === id)?.score;
    expect(scoreOf(entryA)).toBe(scoreOf(entryB));
    expect(run).toMatchObject({ phase: 'optimising', model: { algorithm: 'ranking', order: [entryB, entryA] }, winner_entry_id: entryB });
  });
});

describe('a change of run frequency', () => {
  it('never runs a slot older than the run in force: a longer frequency waits for its next slot', async () => {
    // Entry A takes only clicks without sub1=b, B only those without sub1=a.
    const only = (other: string) => ({ rules: [{ dimension: 'sub1', op: 'exclude', values: [other] }] });
    clock.set('2030-06-01T20:15:00.000Z');
    const { link, token } = await rankingLink(0, {
      entries: [{ offer_id: net.offers.a, routing_value: 1, ruleset: only('b') }, { offer_id: net.offers.b, routing_value: 1, ruleset: only('a') }],
    });
    const entryB = link.entries[1].id;
    const clicks = async (sub1: string, n: number) => {
      const tids: string[] = [];
      for (let i = 0; i < n; i++) tids.push(transactionIdIn((await clickOn(server.url, token, { sub1 })).location));
      return tids;
    };
    // Before midnight A converts; after midnight B does (and A no longer).
    for (const tid of await clicks('a', 2)) expect((await postback(server, { transaction_id: tid })).body.status).toBe('approved');
    await clicks('b', 2);
    clock.set('2030-06-02T01:00:00.000Z');
    for (const tid of await clicks('b', 4)) expect((await postback(server, { transaction_id: tid })).body.status).toBe('approved');
    await clicks('a', 4);
    // The server was down from before midnight until 10:00, so the 00:00 slot never ran. The 10:00
    // run's 12-hour window [22:00, 10:00) holds only the clicks after midnight: B wins.
    clock.set('2030-06-02T10:00:30.000Z');
    const run = (await server.kpiScheduler.tick()).runs.find((r) => r.smart_link_id === link.id);
    expect(run).toMatchObject({ slot_at: '2030-06-02T10:00:00.000Z', phase: 'optimising', winner_entry_id: entryB });

    // Daily runs from now on: the current daily slot (00:00) began ten hours before the run in force.
    clock.set('2030-06-02T10:20:00.000Z');
    expect((await server.call('PATCH', `/api/v1/smart-links/${link.id}`, { kpi: { ...RANKING, collection_threshold: 0, run_frequency_hours: 24 } })).status).toBe(200);
    clock.set('2030-06-02T10:20:30.000Z');
    const late = (await server.kpiScheduler.tick()).runs.filter((r) => r.smart_link_id === link.id);
    // A run for 00:00 would read [12:00, 00:00) of the day before, put A back in force and list
    // itself after the 10:00 run it is older than.
    expect(late.map((r) => r.slot_at)).toEqual([]);
    const status = (await server.call('GET', `/api/v1/smart-links/${link.id}/kpi`)).body;
    expect(status).toMatchObject({ model_run_id: run?.id, next_run_at: '2030-06-03T00:00:00.000Z' });
    expect(hostOf((await clickOn(server.url, token)).location)).toBe('b');
  });
});
