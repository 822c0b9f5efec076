import { expect } from 'vitest';
import { startServer, type TestServer } from '../support/api-server.js';
import { clickOn, transactionIdIn } from '../support/clicks.js';
import { testClock } from '../support/clock.js';
import { postback } from '../support/conversions.js';
import { create } from '../support/fixtures.js';

/** The seeded traffic the report tests check against: a real server, its ids and partner B's key. */
export interface Scenario {
  server: TestServer;
  keyB: string;
  ids: { partnerA: number; partnerB: number; main: number; catchAll: number; noMatch: number; offer: number };
}

const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';
const WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
// Instants chosen around day boundaries: 18:10/18:20Z straddle Kathmandu's midnight, 06:55/07:05Z on
// 8 March straddle New York's switch to summer time, 02:00Z on 9 March is still 8 March in New York.
const TIMES = [
  '2026-03-07T00:10:00.000Z', '2026-03-07T04:50:00.000Z', '2026-03-07T18:10:00.000Z', '2026-03-07T18:20:00.000Z',
  '2026-03-08T06:55:00.000Z', '2026-03-08T07:05:00.000Z', '2026-03-08T12:00:00.000Z', '2026-03-08T23:59:00.000Z', '2026-03-09T02:00:00.000Z',
];
export const ZONES = ['UTC', 'America/New_York', 'Asia/Kathmandu'];

async function click(server: TestServer, token: string, sub1: string, userAgent: string): Promise<string | null> {
  const answer = await clickOn(server.url, token, { sub1, sub2: 'x' }, { 'user-agent': userAgent });
  return answer.location?.includes('tid=') ? transactionIdIn(answer.location) : null;
}

/**
 * Clicks on two days (through the tracking URL, an injected clock placing them) from two partners on a
 * routed link, a catch-all link and a no-match link; conversions and events 40 minutes after their
 * clicks, one rejected; three duplicate clicks. Ends with the clock at noon UTC on 9 March.
 */
export async function seedScenario(): Promise<Scenario> {
  const clock = testClock('2026-03-07T00:10:00.000Z');
  const server = await startServer({ now: clock.now });
  const ids = { partnerA: 0, partnerB: 0, main: 0, catchAll: 0, noMatch: 0, offer: 0 };
  const advertiser = await create(server, '/api/v1/advertisers', { name: 'Acme' });
  ids.partnerA = (await create(server, '/api/v1/partners', { name: 'Partner A' })).id;
  ids.partnerB = (await create(server, '/api/v1/partners', { name: 'Partner B' })).id;
  const keyB = (await server.call('POST', `/api/v1/partners/${ids.partnerB}/api-keys`)).body.key;
  const offer = (name: string, extra: object = {}) => create(server, '/api/v1/offers', {
    advertiser_id: advertiser.id, name, destination_url: 'https://shop.example/?tid={transaction_id}',
    payout: { type: 'fixed', value: 2 }, revenue: { type: 'percent', value: 10 }, attribution_window_days: 1, ...extra,
  });
  const main = await offer('Main offer');
  const fallback = await offer('Fallback offer');
  const paused = await offer('Paused offer', { status: 'paused' });
  ids.offer = main.id;
  const link = (name: string, body: object) => create(server, '/api/v1/smart-links', { name, visible_to_partners: true, ...body });
  ids.main = (await link('Main link', { entries: [{ offer_id: main.id }] })).id;
  ids.catchAll = (await link('Catch-all link', { entries: [{ offer_id: paused.id }], catch_all_offer_id: fallback.id })).id;
  ids.noMatch = (await link('No-match link', { entries: [{ offer_id: paused.id }] })).id;
  const token = async (linkId: number, partnerId: number) =>
    (await server.call('POST', `/api/v1/smart-links/${linkId}/tracking-links`, { partner_id: partnerId })).body.token as string;
  const tokens = [
    [await token(ids.main, ids.partnerA), 'a-main'], [await token(ids.main, ids.partnerB), 'b-main'],
    [await token(ids.catchAll, ids.partnerA), 'a-catch'], [await token(ids.noMatch, ids.partnerB), '=cmd|"x, y"'],
  ] as const;
  for (const [i, time] of TIMES.entries()) {
    clock.set(time);
    const converting: string[] = [];
    for (const [t, sub1] of tokens) {
      const tid = await click(server, t, sub1, i % 2 === 0 ? IPHONE : WINDOWS);
      if (tid !== null) converting.push(tid);
    }
    // Conversions 40 minutes later (next bucket, sometimes next day); a deposit event on some.
    clock.set(new Date(Date.parse(time) + 40 * 60_000).toISOString());
    for (const [j, tid] of converting.entries()) {
      if ((i + j) % 2 === 0) expect((await postback(server, { transaction_id: tid, amount: `${10 + i}.25` })).status).toBe(200);
      if (i % 3 === 0) expect((await postback(server, { transaction_id: tid, event_id: 'deposit', amount: '7' })).status).toBe(200);
    }
    // One conversion outside the 1-day window: stored as rejected, counted nowhere.
    if (i === 0) {
      clock.set('2026-03-08T23:30:00.000Z');
      expect((await postback(server, { transaction_id: converting[1] ?? '', order_id: 'late' })).body.status).toMatch(/rejected|duplicate/);
    }
  }
  // Duplicate clicks (not unique for their visitor), stored through the writer like any click.
  for (const [i, tid] of (await server.call('GET', '/api/v1/conversions?page_size=3')).body.data.map((c: { transaction_id: string }) => c.transaction_id).entries()) {
    const original = await server.store.clicks.get(tid);
    if (!original) throw new Error('no click');
    await server.clickWriter.write({ ...original, transaction_id: `${'d'.repeat(31)}${i}`, is_unique: false, time: TIMES[i + 2] ?? original.time });
  }
  clock.set('2026-03-09T12:00:00.000Z');
  return { server, keyB, ids };
}
