import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EARLIER_FADE_PER_HOUR } from '../../src/engine/kpi/earlier.js';
import { sharpeningFor } from '../../src/engine/kpi/thompson.js';
import { startServer, type TestServer } from '../support/api-server.js';
import { clickOn, transactionIdIn, withClicksDb } from '../support/clicks.js';
import { testClock } from '../support/clock.js';
import { postback } from '../support/conversions.js';
import { create } from '../support/fixtures.js';
import { hostOf, kpiNetwork, type KpiNetwork } from './network.js';

/**
 * A KPI link through its life over real HTTP (SPEC §5, research §19.1): clicks split by weight
 * while collecting, then a `ranking` run over known clicks and postbacks, and clicks that carry
 * that run's id and go to its winner. Every expected figure is computed here from what the test
 * itself sent; the clock is injected, so the scheduler's slots are reached without waiting.
 */

const clock = testClock('2030-01-07T00:10:00.000Z');
const at = (time: string) => clock.set(`2030-01-07T${time}.000Z`);
const iso = (time: string) => `2030-01-07T${time}.000Z`;
const REVENUE = 3;
const PAYOUT = 1.25;
const THRESHOLD = 300;
const LETTERS = ['a', 'b', 'c'] as const;
type Letter = (typeof LETTERS)[number];

let server: TestServer;
let net: KpiNetwork;
let link: { id: number; entries: { id: number; routing_value: number }[] };
let token: string;
let partnerKey: string;
const entryOf = {} as Record<Letter, number>;
/** Transaction ids of the clicks each entry received, in order. */
const tids: Record<Letter, string[]> = { a: [], b: [], c: [] };

async function click(query: Record<string, string> = {}): Promise<{ letter: Letter; tid: string }> {
  const answer = await clickOn(server.url, token, query);
  expect(answer.status).toBe(302);
  const letter = hostOf(answer.location) as Letter;
  const tid = transactionIdIn(answer.location);
  return { letter, tid };
}

const onlyFor = (letter: Letter) => ({ rules: [{ dimension: 'sub1', op: 'exclude', values: LETTERS.filter((l) => l !== letter) }] });

/** A thompson link of entries A and B (each reached only by its own sub1) with a 12-hour lookback, and a token for it. */
async function thompsonAB(name: string): Promise<{ id: number; entryA: number; entryB: number; token: string }> {
  const created = await create(server, '/api/v1/smart-links', {
    name: `${name} ${randomBytes(3).toString('hex')}`,
    routing: 'kpi',
    kpi: { metric: 'cvr', run_frequency_hours: 1, lookback_hours: 12, collection_threshold: 10 },
    entries: [{ offer_id: net.offers.a, routing_value: 1, ruleset: onlyFor('a') }, { offer_id: net.offers.b, routing_value: 1, ruleset: onlyFor('b') }],
  });
  const [entryA = 0, entryB = 0] = created.entries.map((e: { id: number }) => e.id);
  const minted = (await server.call('POST', `/api/v1/smart-links/${created.id}/tracking-links`, { partner_id: net.partnerId })).body.token;
  return { id: created.id, entryA, entryB, token: minted };
}

const runsOf = async (query = '') => {
  const res = await server.call('GET', `/api/v1/smart-links/${link.id}/kpi/runs?page_size=100${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
};
const clickRunId = async (tid: string) => (await server.call('GET', `/api/v1/clicks/${tid}`)).body.kpi_run_id;

beforeAll(async () => {
  server = await startServer({ now: clock.now, env: { SQLITE_SYNCHRONOUS: 'normal', POSTBACK_CONCURRENCY: '0' } });
  net = await kpiNetwork(server, { revenue: { type: 'fixed', value: REVENUE }, payout: { type: 'fixed', value: PAYOUT } });
  // Each entry excludes the other entries' sub1, so `sub1=a` can only reach A; no sub1 reaches any.
  link = await create(server, '/api/v1/smart-links', {
    name: 'Games KPI',
    routing: 'kpi',
    visible_to_partners: true,
    kpi: { metric: 'cvr', algorithm: 'ranking', run_frequency_hours: 1, lookback_hours: 12, collection_threshold: THRESHOLD },
    entries: [
      { offer_id: net.offers.a, routing_value: 1, ruleset: onlyFor('a') },
      { offer_id: net.offers.b, routing_value: 1, ruleset: onlyFor('b') },
      { offer_id: net.offers.c, routing_value: 2, ruleset: onlyFor('c') },
    ],
  });
  LETTERS.forEach((letter, i) => (entryOf[letter] = link.entries[i]?.id ?? 0));
  token = (await server.call('POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: net.partnerId })).body.token;
  partnerKey = (await server.call('POST', `/api/v1/partners/${net.partnerId}/api-keys`)).body.key;
});
afterAll(async () => server?.close());

describe('a KPI link from collection to optimisation', () => {
  let collectingRunId = 0;
  let rankingRun: any;
  let expectedOrder: number[] = [];

  it('while collecting, clicks are split by weight and carry no run id', async () => {
    at('00:20:00');
    for (let i = 0; i < 200; i++) {
      const { letter, tid } = await click();
      tids[letter].push(tid);
    }
    // Weights 1:1:2 over 200 clicks: 50/50/100 expected; the bounds are more than 4 standard deviations wide.
    expect(tids.a.length).toBeGreaterThan(25);
    expect(tids.a.length).toBeLessThan(75);
    expect(tids.b.length).toBeGreaterThan(25);
    expect(tids.b.length).toBeLessThan(75);
    expect(tids.c.length).toBeGreaterThan(70);
    expect(tids.c.length).toBeLessThan(130);
    const withRunId = withClicksDb(server.dataDir, (db) =>
      (db.prepare('select count(*) as n from clicks where smart_link_id = ? and kpi_run_id is not null').get(link.id) as { n: number }).n);
    expect(withRunId).toBe(0);
  });

  it('no run happens for a slot that began before the epoch', async () => {
    at('00:59:59');
    const tick = await server.kpiScheduler.tick();
    expect(tick.runs.filter((r) => r.smart_link_id === link.id)).toEqual([]);
    expect((await runsOf()).data.map((line: { kind: string }) => line.kind)).toEqual(['reset']);
  });

  it('a run before the threshold is `collecting`: window and per-entry clicks recorded, no model', async () => {
    at('01:00:30');
    const tick = await server.kpiScheduler.tick();
    const runs = tick.runs.filter((r) => r.smart_link_id === link.id);
    expect(runs).toHaveLength(1);
    collectingRunId = runs[0]?.id ?? 0;
    const [line] = (await runsOf()).data;
    expect(line).toMatchObject({
      id: collectingRunId, kind: 'run', epoch: 1, run_at: iso('01:00:30'), slot_at: iso('01:00:00'),
      window_from: iso('00:10:00'), window_to: iso('01:00:00'), algorithm: 'ranking', metric: 'cvr', goal: null,
      phase: 'collecting', clicks_in_epoch: 200, kept_previous: false, model: null, winner_entry_id: null, reset_reason: null,
    });
    expect(line.entries.map((e: any) => [e.entry_id, e.clicks, e.conversions])).toEqual(LETTERS.map((l) => [entryOf[l], tids[l].length, 0]));
    const state = (await server.call('GET', `/api/v1/smart-links/${link.id}/kpi`)).body;
    expect(state).toMatchObject({ epoch: 1, phase: 'collecting', model: null, model_run_id: null, clicks_in_epoch: 200, last_run_at: iso('01:00:30'), next_run_at: iso('02:00:00') });
    // The slot has its run: another tick in the same slot stores nothing.
    at('01:05:00');
    expect((await server.kpiScheduler.tick()).runs.filter((r) => r.smart_link_id === link.id)).toEqual([]);
  });

  it('a ranking run ranks entries by their conversion rate over approved conversions of window clicks', async () => {
    at('01:10:00');
    for (const letter of LETTERS) {
      for (let i = 0; i < 50; i++) {
        const answer = await click({ sub1: letter });
        expect(answer.letter).toBe(letter);
        tids[letter].push(answer.tid);
      }
    }
    at('01:20:00');
    const converted: Record<Letter, number> = { a: 2, b: 6, c: 1 };
    for (const letter of LETTERS) {
      for (const tid of tids[letter].slice(0, converted[letter])) expect((await postback(server, { transaction_id: tid })).body.status).toBe('approved');
    }
    // One event on a converted B click: counts as an event and as money, not as a conversion.
    expect((await postback(server, { transaction_id: tids.b[0] ?? '', event_id: 'upsell' })).body.status).toBe('approved');
    // A pending conversion (as over a hard cap) on another C click counts nowhere.
    const pendingClick = await server.store.clicks.get(tids.c[5] ?? '');
    if (!pendingClick?.offer_id || !pendingClick.advertiser_id) throw new Error('no click');
    await server.conversionWriter.writeConversion({
      conversion: {
        transaction_id: pendingClick.transaction_id, time: iso('01:20:00'), click_time: pendingClick.time, offer_id: pendingClick.offer_id,
        partner_id: pendingClick.partner_id, advertiser_id: pendingClick.advertiser_id, smart_link_id: link.id, entry_id: pendingClick.entry_id,
        offer_url_id: null, method: 'server_postback', status: 'pending', status_reason: 'over_hard_cap', event_id: null, order_id: null,
        amount_micros: null, payout_micros: 1_250_000, revenue_micros: 3_000_000, adv1: null, adv2: null, adv3: null, adv4: null, adv5: null,
      },
      event_key: '', order_key: '', partner_postback: null,
    });
    // After the slot's start: outside its window.
    at('02:00:10');
    expect((await click({ sub1: 'c' })).letter).toBe('c');

    at('02:00:30');
    const tick = await server.kpiScheduler.tick();
    expect(tick.runs.filter((r) => r.smart_link_id === link.id)).toHaveLength(1);
    rankingRun = (await runsOf()).data[0];

    const events: Record<Letter, number> = { a: 0, b: 1, c: 0 };
    const expected = LETTERS.map((l, position) => {
      const clicks = tids[l].length;
      return { letter: l, position, routingValue: link.entries[position]?.routing_value ?? 0, clicks, conversions: converted[l], events: events[l], cvr: (converted[l] / clicks) * 100 };
    });
    const ranked = [...expected].sort((x, y) => y.cvr - x.cvr || y.clicks - x.clicks || x.routingValue - y.routingValue || x.position - y.position);
    expectedOrder = ranked.map((r) => entryOf[r.letter]);
    expect(rankingRun).toMatchObject({
      kind: 'run', epoch: 1, slot_at: iso('02:00:00'), window_from: iso('00:10:00'), window_to: iso('02:00:00'),
      phase: 'optimising', clicks_in_epoch: 350, kept_previous: false,
      model: { algorithm: 'ranking', order: expectedOrder }, winner_entry_id: expectedOrder[0], previous_winner_entry_id: null,
    });
    for (const row of expected) {
      const entry = rankingRun.entries.find((e: any) => e.entry_id === entryOf[row.letter]);
      const sales = row.conversions + row.events;
      expect(entry).toMatchObject({ clicks: row.clicks, conversions: row.conversions, events: row.events, rank: ranked.indexOf(row) + 1 });
      expect(entry.revenue).toBeCloseTo(sales * REVENUE, 9);
      expect(entry.payout).toBeCloseTo(sales * PAYOUT, 9);
      expect(entry.metric_value).toBeCloseTo(row.cvr, 9);
      expect(entry.score).toBeCloseTo(row.cvr, 9);
    }
  });

  it('after the ranking run, clicks carry its id and go to the winner', async () => {
    at('02:10:00');
    const winner = LETTERS.find((l) => entryOf[l] === expectedOrder[0]);
    for (let i = 0; i < 20; i++) {
      const { letter, tid } = await click();
      expect(letter).toBe(winner);
      expect(await clickRunId(tid)).toBe(rankingRun.id);
      tids[letter].push(tid);
    }
    const state = (await server.call('GET', `/api/v1/smart-links/${link.id}/kpi`)).body;
    expect(state).toMatchObject({ phase: 'optimising', model_run_id: rankingRun.id, model: { algorithm: 'ranking', order: expectedOrder }, next_run_at: iso('03:00:00') });
  });

  it('the next run names the previous winner; the run record is newest first and filters by time', async () => {
    at('03:00:30');
    await server.kpiScheduler.tick();
    const all = await runsOf();
    expect(all.total).toBe(4);
    expect(all.data.map((l: any) => [l.kind, l.slot_at])).toEqual([['run', iso('03:00:00')], ['run', iso('02:00:00')], ['run', iso('01:00:00')], ['reset', null]]);
    expect(all.data[0].previous_winner_entry_id).toBe(expectedOrder[0]);
    expect(all.data[0].clicks_in_epoch).toBe(371);
    const later = await runsOf(`&from=${encodeURIComponent(iso('01:30:00'))}`);
    expect(later.data.map((l: any) => l.id)).toEqual([all.data[0].id, rankingRun.id]);
    const earlier = await runsOf(`&to=${encodeURIComponent(iso('01:30:00'))}`);
    expect(earlier.data.map((l: any) => l.slot_at)).toEqual([iso('01:00:00'), null]);
    const paged = await server.call('GET', `/api/v1/smart-links/${link.id}/kpi/runs?page=2&page_size=3`);
    expect(paged.body).toMatchObject({ page: 2, page_size: 3, total: 4 });
    expect(paged.body.data.map((l: any) => l.kind)).toEqual(['reset']);
    expect(collectingRunId).toBe(all.data[2].id);
  });

  it('the smart-link report lists the runs in its range for admins and none for partners', async () => {
    const range = `from=${encodeURIComponent(iso('01:30:00'))}&to=${encodeURIComponent('2030-01-07T04:00:00Z')}`;
    const admin = await server.call('GET', `/api/v1/smart-links/${link.id}/report?${range}`);
    expect(admin.status, JSON.stringify(admin.body)).toBe(200);
    expect(admin.body.kpi_runs.map((l: any) => l.slot_at)).toEqual([iso('03:00:00'), iso('02:00:00')]);
    expect(admin.body.kpi_runs[1].model).toEqual({ algorithm: 'ranking', order: expectedOrder });
    const partner = await server.call('GET', `/api/v1/smart-links/${link.id}/report?${range}`, undefined, { key: partnerKey });
    expect(partner.status).toBe(200);
    expect(partner.body.kpi_runs).toEqual([]);
  });
});

describe('a thompson KPI link', () => {
  it('stores a posterior per entry and an allocation summing to 1, and its clicks carry the run id', async () => {
    at('05:10:00');
    const thompson = await create(server, '/api/v1/smart-links', {
      name: `Thompson ${randomBytes(3).toString('hex')}`,
      routing: 'kpi',
      kpi: { metric: 'cvr', run_frequency_hours: 1, collection_threshold: 10 },
      entries: [{ offer_id: net.offers.a, routing_value: 1 }, { offer_id: net.offers.b, routing_value: 1 }],
    });
    const minted = (await server.call('POST', `/api/v1/smart-links/${thompson.id}/tracking-links`, { partner_id: net.partnerId })).body.token;
    for (let i = 0; i < 20; i++) expect((await clickOn(server.url, minted)).status).toBe(302);
    at('06:00:30');
    const [run] = (await server.kpiScheduler.tick()).runs.filter((r) => r.smart_link_id === thompson.id);
    const line = (await server.call('GET', `/api/v1/smart-links/${thompson.id}/kpi/runs`)).body.data[0];
    expect(line).toMatchObject({ id: run?.id, algorithm: 'thompson', phase: 'optimising', model: { algorithm: 'thompson', metric: 'cvr', goal: null } });
    expect(line.model.posteriors.map((p: any) => p.entry_id)).toEqual(thompson.entries.map((e: { id: number }) => e.id));
    expect(line.entries.reduce((sum: number, e: any) => sum + e.expected_share, 0)).toBeCloseTo(1, 9);
    expect(line.entries.reduce((sum: number, e: any) => sum + e.clicks, 0)).toBe(20);
    const answer = await clickOn(server.url, minted);
    expect(await clickRunId(transactionIdIn(answer.location))).toBe(run?.id);
  });

  it('learns from the epoch beyond the window: hours older than the lookback still count', async () => {
    at('07:10:00');
    const remembering = await thompsonAB('Remembering');
    const { entryA, entryB, token: minted } = remembering;
    const sent: string[] = [];
    for (let i = 0; i < 20; i++) {
      const answer = await clickOn(server.url, minted, { sub1: 'a' });
      expect(answer.status).toBe(302);
      sent.push(transactionIdIn(answer.location));
    }
    at('07:40:00');
    for (const tid of sent.slice(0, 8)) expect((await postback(server, { transaction_id: tid })).body.status).toBe('approved');
    // The next day: those clicks are 23 hours old, outside the 12-hour window but inside the history.
    // A click in the window: without one, the link would keep routing by weight (nothing new to learn).
    clock.set('2030-01-08T06:30:00.000Z');
    expect((await clickOn(server.url, minted, { sub1: 'b' })).status).toBe(302);
    clock.set('2030-01-08T07:00:30.000Z');
    const [run] = (await server.kpiScheduler.tick()).runs.filter((r) => r.smart_link_id === remembering.id);
    const line = (await server.call('GET', `/api/v1/smart-links/${remembering.id}/kpi/runs`)).body.data[0];
    expect(line).toMatchObject({ id: run?.id, phase: 'optimising', window_from: '2030-01-07T19:00:00.000Z', window_to: '2030-01-08T07:00:00.000Z' });
    const reportOf = (id: number) => line.entries.find((e: any) => e.entry_id === id);
    expect(reportOf(entryA)).toMatchObject({ clicks: 0, conversions: 0 });
    // A's posterior holds its 8 old conversions in full (nothing on the link changed since): the
    // prior's one success plus 8, sharpened as far as 8 conversions allow; B has the prior alone.
    const posteriorA = line.model.posteriors.find((p: any) => p.entry_id === entryA);
    const posteriorB = line.model.posteriors.find((p: any) => p.entry_id === entryB);
    expect(posteriorA.alpha).toBeCloseTo(sharpeningFor(8, 2) * (1 + 8), 6);
    expect(posteriorB.alpha).toBeCloseTo(sharpeningFor(0, 2), 6);
  });

  it('still learns from those hours once they are older than the hourly history, fading, and counts them once', async () => {
    clock.set('2030-01-08T08:10:00.000Z');
    const longLived = await thompsonAB('Long-lived');
    const { entryA, entryB, token: minted } = longLived;
    const sent: string[] = [];
    for (let i = 0; i < 20; i++) sent.push(transactionIdIn((await clickOn(server.url, minted, { sub1: 'a' })).location));
    clock.set('2030-01-08T08:40:00.000Z');
    for (const tid of sent.slice(0, 8)) expect((await postback(server, { transaction_id: tid })).body.status).toBe('approved');
    // Six 12-hour lookbacks of hourly history reach back 72 hours; these clicks are 96 hours old.
    // Each run's reads of this link's clicks are recorded by where they start.
    const reads = vi.spyOn(server.store.kpiStats, 'clickHours');
    const readsFrom = () => reads.mock.calls.filter(([id]) => id === longLived.id).map(([, from]) => from).sort();
    const runAt = async (time: string) => {
      clock.set(time);
      reads.mockClear();
      const [run] = (await server.kpiScheduler.tick()).runs.filter((r) => r.smart_link_id === longLived.id);
      const line = (await server.call('GET', `/api/v1/smart-links/${longLived.id}/kpi/runs`)).body.data[0];
      expect(line.id).toBe(run?.id);
      return { line, posterior: (id: number) => line.model.posteriors.find((p: any) => p.entry_id === id) };
    };
    try {
      // Their hour ended 24 hours before the history's start (09:00 on the 9th), and fades for each of them.
      const faded = (hours: number) => 8 * EARLIER_FADE_PER_HOUR ** hours;
      // A click in the window: without one, the link would keep routing by weight (nothing new to learn).
      clock.set('2030-01-12T08:30:00.000Z');
      expect((await clickOn(server.url, minted, { sub1: 'b' })).status).toBe(302);
      const first = await runAt('2030-01-12T09:00:30.000Z');
      expect(first.line).toMatchObject({ phase: 'optimising', kept_previous: false });
      expect(first.posterior(entryA).alpha).toBeCloseTo(sharpeningFor(faded(24), 2) * (1 + faded(24)), 6);
      expect(first.posterior(entryB).alpha).toBeCloseTo(sharpeningFor(0, 2), 6);
      // The model carries no sums yet, so the epoch before the history is read from its start.
      expect(readsFrom()[0]).toBe('2030-01-08T08:10:00.000Z');

      // A click in the next window, so the next run computes a model rather than keeping this one.
      clock.set('2030-01-12T09:30:00.000Z');
      expect((await clickOn(server.url, minted, { sub1: 'b' })).status).toBe(302);
      const next = await runAt('2030-01-12T10:00:30.000Z');
      expect(next.line).toMatchObject({ phase: 'optimising', kept_previous: false });
      // The old clicks are faded one hour more, not counted again, and only the hour that aged out is read.
      expect(next.posterior(entryA).alpha).toBeCloseTo(sharpeningFor(faded(25), 2) * (1 + faded(25)), 6);
      expect(readsFrom()).toEqual(['2030-01-09T09:00:00.000Z', '2030-01-09T10:00:00.000Z']);

      // A run whose window holds no clicks keeps the model in force and reads nothing before the history.
      const idle = await runAt('2030-01-12T22:00:30.000Z');
      expect(idle.line).toMatchObject({ kept_previous: true });
      expect(readsFrom()).toEqual(['2030-01-09T22:00:00.000Z']);
    } finally {
      reads.mockRestore();
    }
  });
});

describe('a thompson link on events per click', () => {
  it('steers toward the entry whose events per click are closest to the goal, even above one event per click', async () => {
    clock.set('2030-01-20T08:10:00.000Z');
    const link = await create(server, '/api/v1/smart-links', {
      name: `EVR goal ${randomBytes(3).toString('hex')}`,
      routing: 'kpi',
      kpi: { metric: 'evr', goal: 300, run_frequency_hours: 1, lookback_hours: 12, collection_threshold: 10 },
      entries: [{ offer_id: net.offers.a, routing_value: 1, ruleset: onlyFor('a') }, { offer_id: net.offers.b, routing_value: 1, ruleset: onlyFor('b') }],
    });
    const [entryA = 0, entryB = 0] = link.entries.map((e: { id: number }) => e.id);
    const minted = (await server.call('POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: net.partnerId })).body.token;
    // A's visitors bring 2 events each (200 % EVR), B's bring 5 (500 %): A is 100 points from the goal of 300 %, B 200.
    for (const [sub1, events] of [['a', 2], ['b', 5]] as const) {
      for (let i = 0; i < 20; i++) {
        const tid = transactionIdIn((await clickOn(server.url, minted, { sub1 })).location);
        for (let e = 0; e < events; e++) expect((await postback(server, { transaction_id: tid, event_id: `step${e}` })).body.status).toBe('approved');
      }
    }
    clock.set('2030-01-20T09:00:30.000Z');
    const [run] = (await server.kpiScheduler.tick()).runs.filter((r) => r.smart_link_id === link.id);
    const line = (await server.call('GET', `/api/v1/smart-links/${link.id}/kpi/runs`)).body.data[0];
    expect(line).toMatchObject({ id: run?.id, phase: 'optimising', algorithm: 'thompson' });
    const reportOf = (id: number) => line.entries.find((e: any) => e.entry_id === id);
    expect(reportOf(entryA).metric_value).toBeCloseTo(200, 9);
    expect(reportOf(entryB).metric_value).toBeCloseTo(500, 9);
    expect(line.winner_entry_id).toBe(entryA);
    expect(reportOf(entryA).expected_share).toBeGreaterThan(0.9);
  });
});
