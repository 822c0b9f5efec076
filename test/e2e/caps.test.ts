import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, tempDir, type TestServer } from '../support/api-server.js';
import { clickOn, transactionIdIn, withClicksDb } from '../support/clicks.js';
import { testClock } from '../support/clock.js';
import { outboxRowsFor, postback, uniqueName } from '../support/conversions.js';
import { create } from '../support/fixtures.js';

/**
 * Caps (SPEC §8) through the real server with a simulated clock: a reached hard cap makes its
 * entry ineligible (reason 2) and routing moves on; the next period (in the offer's caps time
 * zone) it receives traffic again; conversions over a hard cap are stored pending; partner caps
 * stop only that partner; soft caps notify once.
 */

const clock = testClock('2025-06-10T12:00:00.000Z'); // 08:00 in New York, a Tuesday
const dataDir = tempDir();
let server: TestServer;
let advertiserId: number;
let partnerA: number;
let partnerB: number;
let fallbackId: number;

beforeAll(async () => {
  server = await startServer({ dataDir, now: clock.now, env: { POSTBACK_CONCURRENCY: '0' } });
  advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Capped' })).id;
  // Partner A listens for postbacks (never sent here: POSTBACK_CONCURRENCY 0), so what is queued for it can be read.
  partnerA = (await create(server, '/api/v1/partners', { name: 'Partner A', postback_url: 'https://partner-a.example/pb?c={conversion_id}' })).id;
  partnerB = (await create(server, '/api/v1/partners', { name: 'Partner B' })).id;
  fallbackId = (await offer('fallback', {})).id;
});
afterAll(async () => server?.close());

async function offer(host: string, body: Record<string, unknown>) {
  return create(server, '/api/v1/offers', {
    advertiser_id: advertiserId,
    name: uniqueName(host),
    destination_url: `https://${host}.example/?tid={transaction_id}`,
    ...body,
  });
}

/** A priority link: `first` (routing value 1), then the fallback offer; a token per partner. */
async function priorityLink(firstId: number) {
  const link = await create(server, '/api/v1/smart-links', {
    name: uniqueName('capped link'),
    routing: 'priority',
    entries: [{ offer_id: firstId, routing_value: 1 }, { offer_id: fallbackId, routing_value: 2 }],
  });
  const token = async (partnerId: number) =>
    (await server.call('POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: partnerId })).body.token as string;
  return { link, tokenA: await token(partnerA), tokenB: await token(partnerB) };
}

async function clickHost(token: string): Promise<{ host: string; tid: string }> {
  const answer = await clickOn(server.url, token);
  expect(answer.status).toBe(302);
  return { host: new URL(answer.location ?? '').hostname, tid: transactionIdIn(answer.location) };
}

async function clickHosts(token: string, n: number): Promise<string[]> {
  const hosts: string[] = [];
  for (let i = 0; i < n; i++) hosts.push((await clickHost(token)).host);
  return hosts;
}

async function skippedReasons(tid: string) {
  return (await server.call('GET', `/api/v1/clicks/${tid}`)).body.skipped as { entry_id: number; reason: number }[];
}

describe('hard click caps', () => {
  it('a daily click cap of 100: the 101st click goes to the next entry, and the next New York day the capped offer routes again', async () => {
    const p1 = await offer('p1', { caps: [{ metric: 'clicks', period: 'daily', limit: 100, mode: 'hard' }], caps_timezone: 'America/New_York' });
    const { link, tokenA } = await priorityLink(p1.id);
    clock.set('2025-06-10T12:00:00.000Z');
    const hosts = await clickHosts(tokenA, 100);
    expect(hosts.every((h) => h === 'p1.example')).toBe(true);
    const over = await clickHost(tokenA);
    expect(over.host).toBe('fallback.example');
    expect(await skippedReasons(over.tid)).toEqual([{ entry_id: link.entries[0].id, reason: 2 }]);

    // 23:59 in New York is still the same day.
    clock.set('2025-06-11T03:59:00.000Z');
    expect((await clickHost(tokenA)).host).toBe('fallback.example');
    // Local midnight (04:00 UTC in summer): a new period.
    clock.set('2025-06-11T04:00:00.000Z');
    expect((await clickHost(tokenA)).host).toBe('p1.example');
  });

  it('a partner cap stops only that partner; other partners keep reaching the offer', async () => {
    const p = await offer('partnercap', {});
    expect((await server.call('PUT', `/api/v1/offers/${p.id}/access/${partnerA}`, { state: 'approved', caps: [{ metric: 'clicks', period: 'daily', limit: 3 }] })).status).toBe(200);
    const { tokenA, tokenB } = await priorityLink(p.id);
    clock.set('2025-06-12T10:00:00.000Z');
    expect(await clickHosts(tokenA, 4)).toEqual(['partnercap.example', 'partnercap.example', 'partnercap.example', 'fallback.example']);
    expect(await clickHosts(tokenB, 5)).toEqual(Array(5).fill('partnercap.example'));
    clock.set('2025-06-13T00:00:00.000Z'); // UTC caps: the next day
    expect((await clickHost(tokenA)).host).toBe('partnercap.example');
  });

  it('2,000 concurrent clicks against a hard click cap of 500 route exactly 500 to the capped entry', async () => {
    const capped = await offer('concurrent', { caps: [{ metric: 'clicks', period: 'global', limit: 500 }] });
    const { tokenA } = await priorityLink(capped.id);
    const counts = new Map<string, number>();
    let next = 0;
    const worker = async () => {
      while (next < 2000) {
        next++;
        const res = await fetch(`${server.url}/sl/${tokenA}`, { redirect: 'manual' });
        await res.arrayBuffer();
        expect(res.status).toBe(302);
        const host = new URL(res.headers.get('location') ?? '').hostname;
        counts.set(host, (counts.get(host) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
    expect(counts.get('concurrent.example')).toBe(500);
    expect(counts.get('fallback.example')).toBe(1500);
    const stored = withClicksDb(server.dataDir, (db) => (db.prepare('select count(*) as n from clicks where offer_id = ?').get(capped.id) as { n: number }).n);
    expect(stored).toBe(500);
  }, 60_000);
});

describe('hard conversion and money caps', () => {
  /** Clicks the link n times (all to the capped offer), then posts back each click in order. */
  async function convertEach(token: string, n: number): Promise<string[]> {
    const tids: string[] = [];
    for (let i = 0; i < n; i++) tids.push((await clickHost(token)).tid);
    const statuses: string[] = [];
    for (const tid of tids) statuses.push((await postback(server, { transaction_id: tid, amount: '10' })).body.status);
    return statuses;
  }

  it.each([
    ['conversions', 2, {}],
    // payout 1.5 each: 1.5, 3.0 reach the limit of 3 exactly; the third is over.
    ['payout', 3, { payout: { type: 'fixed', value: 1.5 } }],
    // revenue 2 each: 2, 4; the third would make 6 > 5.
    ['revenue', 5, { revenue: { type: 'fixed', value: 2 } }],
  ] as const)('a daily %s cap: conversions over it are stored pending, the offer stops receiving clicks, and the next day it converts approved again', async (metric, limit, money) => {
    const capped = await offer(`conv-${metric}`, { ...money, caps: [{ metric, period: 'daily', limit, mode: 'hard' }], caps_timezone: 'Europe/Berlin' });
    const { link, tokenA } = await priorityLink(capped.id);
    clock.set('2025-06-14T10:00:00.000Z');
    expect(await convertEach(tokenA, 3)).toEqual(['approved', 'approved', 'pending']);
    const pending = (await server.call('GET', `/api/v1/conversions?offer_id=${capped.id}&status=pending`)).body.data;
    expect(pending).toHaveLength(1);
    expect(pending[0].status_reason).toBe('over_hard_cap');
    // SPEC §10.4: the partner hears of approved conversions only, not of the one held back.
    const all = (await server.call('GET', `/api/v1/conversions?offer_id=${capped.id}`)).body.data as { id: number; status: string }[];
    expect(all.map((c) => [c.status, outboxRowsFor(server, c.id).length]).sort()).toEqual([['approved', 1], ['approved', 1], ['pending', 0]]);

    const skipped = await clickHost(tokenA);
    expect(skipped.host).toBe('fallback.example');
    expect(await skippedReasons(skipped.tid)).toEqual([{ entry_id: link.entries[0].id, reason: 2 }]);

    clock.set('2025-06-14T22:00:00.000Z'); // midnight in Berlin (CEST)
    expect(await convertEach(tokenA, 1)).toEqual(['approved']);
  });

  it('a full conversions cap holds back new conversions, not the events of converted clicks (events do not count toward it)', async () => {
    const capped = await offer('conv-events', { caps: [{ metric: 'conversions', period: 'daily', limit: 1, mode: 'hard' }] });
    const { tokenA } = await priorityLink(capped.id);
    clock.set('2025-06-17T10:00:00.000Z');
    const converted = (await clickHost(tokenA)).tid;
    const later = (await clickHost(tokenA)).tid;
    expect((await postback(server, { transaction_id: converted })).body.status).toBe('approved');
    expect((await postback(server, { transaction_id: converted, event_id: 'deposit' })).body.status).toBe('approved');
    expect((await postback(server, { transaction_id: later })).body.status).toBe('pending');
  });

  it("an advertiser's retries of a stored conversion take no cap room from a new conversion arriving with them", async () => {
    const capped = await offer('conv-retry', { caps: [{ metric: 'conversions', period: 'daily', limit: 2, mode: 'hard' }] });
    const { tokenA } = await priorityLink(capped.id);
    clock.set('2025-06-16T10:00:00.000Z');
    const first = (await clickHost(tokenA)).tid;
    const second = (await clickHost(tokenA)).tid;
    expect((await postback(server, { transaction_id: first })).body.status).toBe('approved');
    // A burst of retries of the first postback is in flight when the second click's arrives: two
    // conversions against a cap of two. (Each retry used to hold cap room until its write found the
    // duplicate; with this many in flight the second conversion always met one of them.)
    const retries = Array.from({ length: 16 }, () => postback(server, { transaction_id: first }));
    const answers = await Promise.all([...retries, postback(server, { transaction_id: second })]);
    expect(answers.map((a) => a.body.status)).toEqual([...Array<string>(16).fill('duplicate'), 'approved']);
    const stored = (await server.call('GET', `/api/v1/conversions?offer_id=${capped.id}`)).body.data;
    expect(stored.map((c: { status: string }) => c.status)).toEqual(['approved', 'approved']);
  });
});

describe('a clock stepped back across midnight (an NTP correction, a host behind)', () => {
  it('keeps what the day it left had counted, in memory and across a restart, so the hard cap holds when that day comes again', async () => {
    const capped = await offer('stepback', { caps: [{ metric: 'clicks', period: 'daily', limit: 3, mode: 'hard' }], caps_timezone: 'UTC' });
    const { tokenA } = await priorityLink(capped.id);
    clock.set('2025-06-21T00:05:00.000Z');
    expect(await clickHosts(tokenA, 4)).toEqual(['stepback.example', 'stepback.example', 'stepback.example', 'fallback.example']);
    clock.set('2025-06-20T23:55:00.000Z');
    server.pruneLiveState();
    clock.set('2025-06-21T00:06:00.000Z');
    expect((await clickHost(tokenA)).host).toBe('fallback.example');

    await server.close();
    clock.set('2025-06-20T23:56:00.000Z');
    server = await startServer({ dataDir, now: clock.now, env: { POSTBACK_CONCURRENCY: '0' } });
    clock.set('2025-06-21T00:07:00.000Z');
    expect((await clickHost(tokenA)).host).toBe('fallback.example');
  });
});

describe('caps_timezone moved west', () => {
  it("the new zone's next day starts afresh, not with the old zone's clicks of that date, live as after a restart", async () => {
    clock.set('2025-06-24T16:00:00.000Z'); // 01:00 on 25 June in Tokyo, 09:00 on 24 June in Los Angeles
    const capped = await offer('tokyo', { caps: [{ metric: 'clicks', period: 'daily', limit: 3, mode: 'hard' }], caps_timezone: 'Asia/Tokyo' });
    const { tokenA } = await priorityLink(capped.id);
    expect(await clickHosts(tokenA, 4)).toEqual(['tokyo.example', 'tokyo.example', 'tokyo.example', 'fallback.example']);
    expect((await server.call('PATCH', `/api/v1/offers/${capped.id}`, { caps_timezone: 'America/Los_Angeles' })).status).toBe(200);
    clock.set('2025-06-24T16:02:00.000Z');
    server.pruneLiveState();
    clock.set('2025-06-25T07:30:00.000Z'); // 25 June begins in Los Angeles: no click of it yet
    server.pruneLiveState();
    const live = (await clickHost(tokenA)).host;
    await server.close();
    server = await startServer({ dataDir, now: clock.now, env: { POSTBACK_CONCURRENCY: '0' } });
    const rebuilt = (await clickHost(tokenA)).host;
    expect({ live, rebuilt }).toEqual({ live: 'tokyo.example', rebuilt: 'tokyo.example' });
  });
});

describe('caps_timezone changed mid-period', () => {
  it("a daily hard cap already reached in the new zone's current day holds at once, as it does after a restart", async () => {
    clock.set('2025-06-26T16:00:00.000Z'); // the 26th in UTC, already the 27th (01:00) in Tokyo
    const capped = await offer('moved-east', { caps: [{ metric: 'clicks', period: 'daily', limit: 3, mode: 'hard' }], caps_timezone: 'UTC' });
    const { tokenA } = await priorityLink(capped.id);
    expect(await clickHosts(tokenA, 3)).toEqual(Array(3).fill('moved-east.example'));
    // All three clicks fall on 27 June in Tokyo: the new zone's day is already full.
    expect((await server.call('PATCH', `/api/v1/offers/${capped.id}`, { caps_timezone: 'Asia/Tokyo' })).status).toBe(200);
    clock.set('2025-06-26T16:01:00.000Z');
    const live = (await clickHost(tokenA)).host;
    await server.close();
    server = await startServer({ dataDir, now: clock.now, env: { POSTBACK_CONCURRENCY: '0' } });
    const rebuilt = (await clickHost(tokenA)).host;
    expect({ live, rebuilt }).toEqual({ live: 'fallback.example', rebuilt: 'fallback.example' });
  });
});

describe('caps_timezone changed while clicks arrive', () => {
  it('a daily hard cap already reached in the new zone holds for the clicks that arrive while the change is being applied', async () => {
    clock.set('2025-07-02T16:00:00.000Z'); // the 2nd in UTC, already the 3rd (01:00) in Tokyo
    const capped = await offer('moved-busy', { caps: [{ metric: 'clicks', period: 'daily', limit: 3, mode: 'hard' }], caps_timezone: 'UTC' });
    const { tokenA } = await priorityLink(capped.id);
    expect(await clickHosts(tokenA, 3)).toEqual(Array(3).fill('moved-busy.example'));
    // The cap is reached in UTC's day and in Tokyo's: no click may reach the offer, during the change or after it.
    let answered = false;
    const patch = server.call('PATCH', `/api/v1/offers/${capped.id}`, { caps_timezone: 'Asia/Tokyo' }).finally(() => (answered = true));
    const during: string[] = [];
    while (!answered) during.push((await clickHost(tokenA)).host);
    expect((await patch).status).toBe(200);
    expect(during.length).toBeGreaterThan(0);
    expect(during.filter((host) => host === 'moved-busy.example')).toEqual([]);
  });
});

/** The notifications stored for an offer; storing is off the click path, so this polls until `count` are there. */
async function notificationsOf(offerId: number, count: number): Promise<any[]> {
  let listed: any[] = [];
  for (let attempt = 0; attempt < 100; attempt++) {
    listed = (await server.call('GET', '/api/v1/notifications?page_size=500')).body.data.filter((n: { offer_id: number }) => n.offer_id === offerId);
    if (listed.length >= count) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return listed;
}

describe('soft caps', () => {
  it('crossing a soft cap routes on, lists one notification and counts it in the metrics', async () => {
    const soft = await offer('soft', { caps: [{ metric: 'clicks', period: 'daily', limit: 3, mode: 'soft' }] });
    const { tokenA } = await priorityLink(soft.id);
    clock.set('2025-06-15T10:00:00.000Z');
    expect(await clickHosts(tokenA, 6)).toEqual(Array(6).fill('soft.example'));

    let listed: any[] = [];
    for (let attempt = 0; attempt < 100 && listed.length === 0; attempt++) {
      // Storing the notification is off the click path; poll until it is there.
      listed = (await server.call('GET', '/api/v1/notifications?page_size=500')).body.data.filter((n: { offer_id: number }) => n.offer_id === soft.id);
      if (listed.length === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(listed).toEqual([
      expect.objectContaining({ kind: 'soft_cap_reached', scope: 'offer', offer_id: soft.id, partner_id: null, metric: 'clicks', period: 'daily', period_key: 'day-2025-06-15', limit: 3, used: 3 }),
    ]);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/switchyard_cap_notifications_total\{scope="offer",metric="clicks",period="daily"\} 1\b/);

    const openapi = (await server.call('GET', '/openapi.json')).body;
    expect(openapi.paths['/api/v1/notifications']?.get).toBeDefined();
  });

  it('a soft cap lowered below its use notifies at the next click, also when the server restarted in between; never twice a period', async () => {
    const soft = await offer('lowered', { caps: [{ metric: 'clicks', period: 'daily', limit: 10, mode: 'soft' }] });
    const { tokenA } = await priorityLink(soft.id);
    clock.set('2025-06-16T10:00:00.000Z');
    expect(await clickHosts(tokenA, 3)).toEqual(Array(3).fill('lowered.example'));
    expect((await server.call('PATCH', `/api/v1/offers/${soft.id}`, { caps: [{ metric: 'clicks', period: 'daily', limit: 2, mode: 'soft' }] })).status).toBe(200);
    await server.close(); // a deploy
    server = await startServer({ dataDir, now: clock.now, env: { POSTBACK_CONCURRENCY: '0' } });
    await clickHost(tokenA);
    expect(await notificationsOf(soft.id, 1)).toEqual([expect.objectContaining({ period_key: 'day-2025-06-16', limit: 2, used: 4 })]);

    await server.close();
    server = await startServer({ dataDir, now: clock.now, env: { POSTBACK_CONCURRENCY: '0' } });
    await clickHosts(tokenA, 2);
    expect(await notificationsOf(soft.id, 2)).toHaveLength(1);
    expect(await (await fetch(`${server.url}/metrics`)).text()).not.toMatch(/switchyard_cap_notifications_total\{[^}]*\} [1-9]/);
  });
});
