import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/api-server.js';
import {
  clickTid, convertingOffer, countConversions, outboxRowsFor, postback, storeClickAt, storedConversions, type ConvertingOffer,
} from '../support/conversions.js';
import { create } from '../support/fixtures.js';

/**
 * Server postbacks (SPEC §10.1, §10.3, §10.4) against a real server on a real port: every
 * conversion is checked where it is stored, and every refused one is checked to have stored nothing.
 */

let server: TestServer;
let advertiserId: number;
let partnerId: number;
/** payout fixed 1.1, revenue 12.5 % of the amount. */
let sale: ConvertingOffer;
/** payout fixed 0.1, revenue fixed 0.2. */
let cents: ConvertingOffer;
let secret: ConvertingOffer;
let repeatable: ConvertingOffer;
let shortWindow: ConvertingOffer;

const PARTNER_POSTBACK =
  'https://partner.example/pb?tid={transaction_id}&cid={conversion_id}&pay={payout}&ev={event_id}&s1={sub1}&o={offer_id}&sl={smart_link_id}&x={not_a_macro}';
const SECRET = 'verify-me-0123';

beforeAll(async () => {
  server = await startServer({ env: { POSTBACK_CONCURRENCY: '0' } }); // the outbox row is inspected before any delivery
  advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Acme' })).id;
  partnerId = (await create(server, '/api/v1/partners', { name: 'Traffic Co', postback_url: PARTNER_POSTBACK })).id;
  const offer = (body: Record<string, unknown>) => convertingOffer(server, advertiserId, partnerId, body);
  sale = await offer({ payout: { type: 'fixed', value: 1.1 }, revenue: { type: 'percent', value: 12.5 } });
  cents = await offer({ payout: { type: 'fixed', value: 0.1 }, revenue: { type: 'fixed', value: 0.2 } });
  secret = await offer({ postback_secret: SECRET });
  repeatable = await offer({ allow_duplicate_conversions: true });
  shortWindow = await offer({ attribution_window_days: 1 });
});
afterAll(async () => server?.close());

describe('attribution and money', () => {
  it('a postback converts its click under the offer, partner, advertiser, smart link and entry, with exact payout and revenue', async () => {
    const tid = await clickTid(server, sale.token);
    const res = await postback(server, { transaction_id: tid, amount: '19.99', adv1: 'basket-7' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'approved', conversion_id: expect.any(Number) });

    const list = await server.call('GET', `/api/v1/conversions?offer_id=${sale.offerId}`);
    expect(list.status).toBe(200);
    const click = await server.store.clicks.get(tid);
    expect(list.body.data).toEqual([
      expect.objectContaining({
        id: res.body.conversion_id,
        transaction_id: tid,
        click_time: click?.time,
        offer_id: sale.offerId,
        partner_id: partnerId,
        advertiser_id: advertiserId,
        smart_link_id: sale.smartLinkId,
        entry_id: sale.entryId,
        offer_url_id: null,
        method: 'server_postback',
        status: 'approved',
        event_id: null,
        amount: 19.99,
        payout: 1.1,
        // 12.5 % of 19.99 is exactly 2.49875: kept to the micro, never a float product.
        revenue: 2.49875,
        adv1: 'basket-7',
      }),
    ]);
    expect(storedConversions(server, tid)[0]).toMatchObject({ amount_micros: 19_990_000, payout_micros: 1_100_000, revenue_micros: 2_498_750 });
  });

  it('a percent revenue is rounded half up to the micro (12.5 % of 0.0001 = 12.5 micros → 13)', async () => {
    const tid = await clickTid(server, sale.token);
    expect((await postback(server, { transaction_id: tid, amount: '0.0001' })).status).toBe(200);
    expect(storedConversions(server, tid)[0]?.revenue_micros).toBe(13);
  });

  it('fixed amounts add up exactly: three events of payout 0.1 and revenue 0.2 sum to 0.3 and 0.6', async () => {
    const tid = await clickTid(server, cents.token);
    for (const event of ['a', 'b', 'c']) {
      expect((await postback(server, { transaction_id: tid, event_id: event })).body.status).toBe('approved');
    }
    const rows = storedConversions(server, tid);
    expect(rows.reduce((sum, r) => sum + r.payout_micros, 0)).toBe(300_000);
    expect(rows.reduce((sum, r) => sum + r.revenue_micros + r.payout_micros, 0)).toBe(900_000);
    const listed = (await server.call('GET', `/api/v1/conversions?offer_id=${cents.offerId}`)).body.data as { payout: number; revenue: number }[];
    expect(listed.map((c) => [c.payout, c.revenue])).toEqual([[0.1, 0.2], [0.1, 0.2], [0.1, 0.2]]);
  });

  it('POST accepts a form body and a JSON body; a JSON number amount is taken exactly as written', async () => {
    const formTid = await clickTid(server, sale.token);
    const form = await fetch(`${server.url}/postback`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ transaction_id: formTid, amount: '10.01' }).toString(),
    });
    expect(form.status).toBe(200);
    const jsonTid = await clickTid(server, sale.token);
    const json = await server.call('POST', '/postback?event_id=sale', { transaction_id: jsonTid, amount: 0.3 }, { key: null });
    expect(json.status, JSON.stringify(json.body)).toBe(200);
    expect(storedConversions(server, formTid)[0]?.amount_micros).toBe(10_010_000);
    expect(storedConversions(server, jsonTid)[0]).toMatchObject({ amount_micros: 300_000, event_key: 'sale' });
  });

  it('an amount written with trailing zeros past 4 places (printf "%f": 19.990000) converts, in a query or a form as in JSON', async () => {
    const queryTid = await clickTid(server, sale.token);
    const query = await postback(server, { transaction_id: queryTid, amount: '19.990000' });
    expect(query.status, JSON.stringify(query.body)).toBe(200);
    expect(storedConversions(server, queryTid)[0]).toMatchObject({ amount_micros: 19_990_000, revenue_micros: 2_498_750 });
    const formTid = await clickTid(server, sale.token);
    const form = await fetch(`${server.url}/postback`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ transaction_id: formTid, amount: '25.000000' }).toString(),
    });
    expect(form.status).toBe(200);
    expect(storedConversions(server, formTid)[0]?.amount_micros).toBe(25_000_000);
    // Digits that are not zeros past the fourth place are still refused.
    const tid = await clickTid(server, sale.token);
    const refused = await postback(server, { transaction_id: tid, amount: '19.990010' });
    expect(refused.status).toBe(400);
    // Refused by the input schema for its digits, not let through to be called 'too large'.
    expect(refused.body.error.details).toEqual([{ path: 'amount', message: expect.stringMatching(/at most 4 decimal places/) }]);
    expect(storedConversions(server, tid)).toEqual([]);
  });

  it('a POST labelled JSON with no body takes every field from the query, as a bodiless form POST does', async () => {
    for (const contentType of ['application/json', 'application/x-www-form-urlencoded']) {
      const tid = await clickTid(server, sale.token);
      const res = await fetch(`${server.url}/postback?transaction_id=${tid}&amount=5`, { method: 'POST', headers: { 'content-type': contentType } });
      expect(res.status, `${contentType}: ${await res.text()}`).toBe(200);
      expect(storedConversions(server, tid)[0]?.amount_micros).toBe(5_000_000);
    }
  });

  it('any payout, revenue or cap limit of at most 4 decimals is accepted, however a binary float divides it, and converts exactly', async () => {
    // 7955.9 / 0.0001 is 79558999.99999999 in binary floats: a float tolerance refused such values.
    for (const value of [7955.9, 9475.07, 7349.007, 7137.0007, 1234567.8901]) {
      const created = await server.call('POST', '/api/v1/offers', {
        advertiser_id: advertiserId, name: `Pays ${value}`, destination_url: 'https://shop.example/land?tid={transaction_id}',
        payout: { type: 'fixed', value }, revenue: { type: 'fixed', value }, caps: [{ metric: 'payout', period: 'daily', limit: value, mode: 'soft' }],
      });
      expect(created.status, `${value}: ${JSON.stringify(created.body)}`).toBe(201);
      const link = await create(server, '/api/v1/smart-links', { name: `Pays ${value}`, entries: [{ offer_id: created.body.id }] });
      const token = (await server.call('POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: partnerId })).body.token as string;
      const tid = await clickTid(server, token);
      expect((await postback(server, { transaction_id: tid })).body.status).toBe('approved');
      expect(storedConversions(server, tid)[0]).toMatchObject({ payout_micros: Math.round(value * 1e6), revenue_micros: Math.round(value * 1e6) });
    }
    // Five decimals are still refused.
    const fiveDecimals = await server.call('POST', '/api/v1/offers', {
      advertiser_id: advertiserId, name: 'Five decimals', destination_url: 'https://shop.example/', payout: { type: 'fixed', value: 7955.90001 },
    });
    expect(fiveDecimals.status).toBe(400);
    expect(fiveDecimals.body.error.details.map((d: { path: string }) => d.path)).toContain('payout.value');
  });

  it('a payout or revenue too large to keep exactly is refused when the offer is saved, not on every postback after', async () => {
    const tooLarge = await server.call('POST', '/api/v1/offers', {
      advertiser_id: advertiserId, name: 'Too large', destination_url: 'https://big.example/', payout: { type: 'fixed', value: 10_000_000_000 },
    });
    expect(tooLarge.status).toBe(400);
    expect(tooLarge.body.error.details.map((d: { path: string }) => d.path)).toContain('payout.value');
    const largest = await convertingOffer(server, advertiserId, partnerId, { payout: { type: 'fixed', value: 9_000_000_000 }, revenue: { type: 'fixed', value: 9_000_000_000 } });
    const tid = await clickTid(server, largest.token);
    expect((await postback(server, { transaction_id: tid })).status).toBe(200);
    expect(storedConversions(server, tid)[0]).toMatchObject({ payout_micros: 9e15, revenue_micros: 9e15 });
  });

  it("a catch-all's conversion is in its smart link's own report, as in the general report", async () => {
    const neverMatches = await create(server, '/api/v1/offers', {
      advertiser_id: advertiserId, name: 'Nowhere', destination_url: 'https://nowhere.example/?tid={transaction_id}',
      ruleset: { rules: [{ dimension: 'country', op: 'include', values: ['AQ'] }] },
    });
    const catchAll = await create(server, '/api/v1/offers', {
      advertiser_id: advertiserId, name: 'Catch-all', destination_url: 'https://ca.example/?tid={transaction_id}',
      payout: { type: 'fixed', value: 2 }, revenue: { type: 'fixed', value: 5 },
    });
    const link = await create(server, '/api/v1/smart-links', { name: 'With catch-all', entries: [{ offer_id: neverMatches.id }], catch_all_offer_id: catchAll.id });
    const token = (await server.call('POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: partnerId })).body.token as string;
    expect((await postback(server, { transaction_id: await clickTid(server, token) })).body.status).toBe('approved');

    const general = await server.call('GET', `/api/v1/reports?group_by=smart_link&filter[smart_link]=${link.id}`);
    expect(general.body.totals).toMatchObject({ clicks: 1, conversions: 1, revenue: 5, payout: 2 });
    const report = (await server.call('GET', `/api/v1/smart-links/${link.id}/report`)).body;
    expect(report.entries).toEqual([]);
    expect(report.fallbacks).toEqual([expect.objectContaining({ outcome: 'catch_all', offer_id: catchAll.id, offer_name: 'Catch-all', clicks: 1, conversions: 1, revenue: 5, payout: 2, profit: 3 })]);
    expect(report.totals).toMatchObject({ clicks: 1, conversions: 1, revenue: 5, payout: 2 });
    // The CSV export holds the same money: its rows add up to the totals.
    const csv = String((await server.call('GET', `/api/v1/smart-links/${link.id}/report?format=csv`)).body).trim().split('\n').map((line) => line.split(','));
    const [header, ...rows] = csv;
    expect(header?.[0]).toBe('outcome');
    const sum = (column: string) => rows.reduce((total, row) => total + Number(row[header?.indexOf(column) ?? -1] || 0), 0);
    expect([sum('clicks'), sum('conversions'), sum('revenue'), sum('payout')]).toEqual([1, 1, 5, 2]);
  });

  it('a JSON null is an absent field, as an empty form value is: the query value stands and the conversion is stored', async () => {
    const tid = await clickTid(server, sale.token);
    const res = await server.call('POST', '/postback?event_id=nulls', { transaction_id: tid, amount: null, event_id: null, order_id: null, adv1: null }, { key: null });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(storedConversions(server, tid)[0]).toMatchObject({ amount_micros: null, event_key: 'nulls', order_id: null, adv1: null });
  });

  it('a macro the advertiser left unfilled ({amount}, {{aff_sub}}) is an absent field, not a 400 that loses the conversion', async () => {
    const tid = await clickTid(server, sale.token);
    const res = await postback(server, { transaction_id: tid, amount: '{amount}', order_id: '{{order_id}}', adv1: '{aff_sub}', adv2: 'a {b}', adv3: '{b} c' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(storedConversions(server, tid)[0]).toMatchObject({ amount_micros: null, order_id: null, adv1: null, adv2: 'a {b}', adv3: '{b} c' });
  });
});

describe('postbacks that store nothing', () => {
  const long = 'x'.repeat(513);
  it.each([
    ['no transaction_id', {}, 400],
    ['an empty transaction_id', { transaction_id: '' }, 400],
    ['a garbage transaction_id', { transaction_id: 'not-a-transaction' }, 400],
    ['an upper-case transaction_id', { transaction_id: 'ABCDEF0123456789ABCDEF0123456789' }, 400],
    ['an unknown transaction_id', { transaction_id: '0123456789abcdef0123456789abcdef' }, 404],
  ])('%s answers %i', async (_what, params: Record<string, string>, status) => {
    const before = countConversions(server);
    const res = await postback(server, params);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(status === 404 ? 'not_found' : 'validation_failed');
    expect(countConversions(server)).toBe(before);
  });

  it.each([
    ['a negative amount', { amount: '-1' }],
    ['a non-numeric amount', { amount: 'ten' }],
    ['an amount with 5 decimals', { amount: '1.00001' }],
    ['an amount in exponent form', { amount: '1e3' }],
    ['an amount beyond the storable range', { amount: '99999999999999' }],
    ['an event_id over 512 characters', { event_id: long }],
    ['an order_id over 512 characters', { order_id: long }],
    ['an adv5 over 512 characters', { adv5: long }],
  ])('%s on a real click answers 400 validation_failed', async (_what, params: Record<string, string>) => {
    const tid = await clickTid(server, sale.token);
    const res = await postback(server, { transaction_id: tid, ...params });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(storedConversions(server, tid)).toEqual([]);
  });

  it('a HEAD request (link checker, prefetch) never converts', async () => {
    const tid = await clickTid(server, sale.token);
    const res = await fetch(`${server.url}/postback?transaction_id=${tid}`, { method: 'HEAD' });
    expect(res.status).toBe(404);
    expect(storedConversions(server, tid)).toEqual([]);
  });

  it('an offer with a postback secret refuses a missing or wrong verification_token (403) and takes the right one', async () => {
    const tid = await clickTid(server, secret.token);
    for (const token of [undefined, 'wrong-token', `${SECRET}x`]) {
      const res = await postback(server, { transaction_id: tid, ...(token ? { verification_token: token } : {}) });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }
    expect(storedConversions(server, tid)).toEqual([]);
    expect((await postback(server, { transaction_id: tid, verification_token: SECRET })).body.status).toBe('approved');
  });
});

describe('idempotency', () => {
  it('the same postback replayed 100 times concurrently stores exactly one conversion', async () => {
    const tid = await clickTid(server, sale.token);
    const params = { transaction_id: tid, event_id: 'purchase', order_id: 'order-1', amount: '5' };
    const answers = await Promise.all(Array.from({ length: 100 }, () => postback(server, params)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const statuses = answers.map((a) => a.body.status);
    expect(statuses.filter((s) => s === 'approved')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'duplicate')).toHaveLength(99);
    expect(new Set(answers.map((a) => a.body.conversion_id)).size).toBe(1);
    expect(storedConversions(server, tid)).toHaveLength(1);
  });

  it('a second base conversion for one click is a duplicate, whatever its order_id, unless the offer allows duplicates', async () => {
    const tid = await clickTid(server, sale.token);
    expect((await postback(server, { transaction_id: tid, order_id: 'A' })).body.status).toBe('approved');
    expect((await postback(server, { transaction_id: tid, order_id: 'B' })).body.status).toBe('duplicate');
    expect((await postback(server, { transaction_id: tid })).body.status).toBe('duplicate');
    const rows = storedConversions(server, tid);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.order_id).toBe('A');
  });

  it("copies of one postback sent at once do not push another click's conversion over a hard cap", async () => {
    const wronglyPending: string[] = [];
    for (let round = 0; round < 5; round++) {
      // A cap of 2 conversions a day, two clicks that each convert once: both must be approved.
      const capped = await convertingOffer(server, advertiserId, partnerId, { caps: [{ metric: 'conversions', period: 'daily', limit: 2, mode: 'hard' }] });
      const x = await clickTid(server, capped.token);
      const y = await clickTid(server, capped.token);
      // The advertiser fires X's postback twice at once (a retry racing the original).
      const answers = await Promise.all([postback(server, { transaction_id: x }), postback(server, { transaction_id: x }), postback(server, { transaction_id: y })]);
      expect(answers.map((a) => a.body.status).sort()).toEqual(['approved', 'approved', 'duplicate']);
      expect(storedConversions(server, x)).toHaveLength(1);
      const status = storedConversions(server, y)[0]?.status;
      if (status !== 'approved') wronglyPending.push(`round ${round}: ${status}`);
    }
    expect(wronglyPending).toEqual([]);
  });

  it('an offer allowing duplicate conversions converts each new order once', async () => {
    const tid = await clickTid(server, repeatable.token);
    const statuses = [];
    for (const order of ['A', 'B', 'A']) statuses.push((await postback(server, { transaction_id: tid, order_id: order })).body.status);
    expect(statuses).toEqual(['approved', 'approved', 'duplicate']);
    expect(storedConversions(server, tid).map((r) => r.order_id)).toEqual(['A', 'B']);
  });

  it('events are keyed by (event_id, order_id): a new event or a new order of one event converts again', async () => {
    const tid = await clickTid(server, sale.token);
    const send = (params: Record<string, string>) => postback(server, { transaction_id: tid, ...params }).then((r) => r.body.status);
    expect(await send({ event_id: 'signup' })).toBe('approved');
    expect(await send({ event_id: 'signup' })).toBe('duplicate');
    expect(await send({ event_id: 'purchase', order_id: '1' })).toBe('approved');
    expect(await send({ event_id: 'purchase', order_id: '2' })).toBe('approved');
    expect(await send({ event_id: 'purchase', order_id: '2' })).toBe('duplicate');
    expect(storedConversions(server, tid)).toHaveLength(3);
  });
});

describe('attribution window', () => {
  it('a conversion after the window is stored rejected with its reason; one inside the window is approved', async () => {
    const real = await clickTid(server, shortWindow.token);
    const dayMs = 86_400_000;
    const old = await storeClickAt(server, real, new Date(Date.now() - dayMs - 60_000));
    const recent = await storeClickAt(server, real, new Date(Date.now() - dayMs + 60_000));

    const late = await postback(server, { transaction_id: old });
    expect(late.status).toBe(200);
    expect(late.body).toEqual({ status: 'rejected', conversion_id: expect.any(Number) });
    expect(storedConversions(server, old)).toEqual([expect.objectContaining({ status: 'rejected', status_reason: 'outside_attribution_window' })]);
    expect(outboxRowsFor(server, late.body.conversion_id)).toEqual([]);
    expect((await postback(server, { transaction_id: old })).body.status).toBe('duplicate');

    expect((await postback(server, { transaction_id: recent })).body.status).toBe('approved');
  });
});

describe('partner postback outbox', () => {
  it('an approved conversion queues one pending partner postback with every macro expanded and URL-encoded', async () => {
    const sub1 = 'a b&c=d/é';
    const tid = await clickTid(server, sale.token, { sub1 });
    const res = await postback(server, { transaction_id: tid, event_id: 'buy now', amount: '19.99' });
    const id = res.body.conversion_id as number;
    const rows = outboxRowsFor(server, id);
    expect(rows).toEqual([expect.objectContaining({ partner_id: partnerId, state: 'pending', attempts: 0 })]);
    expect(rows[0]?.url).toBe(
      `https://partner.example/pb?tid=${tid}&cid=${id}&pay=1.1&ev=buy%20now&s1=${encodeURIComponent(sub1)}` +
        `&o=${sale.offerId}&sl=${sale.smartLinkId}&x={not_a_macro}`,
    );
    expect(Date.parse(rows[0]?.next_attempt_at ?? '')).toBeLessThanOrEqual(Date.now());

    expect((await postback(server, { transaction_id: tid, event_id: 'buy now', amount: '19.99' })).body.status).toBe('duplicate');
    expect(outboxRowsFor(server, id)).toHaveLength(1);
  });

  it('/metrics shows the postbacks waiting in the outbox, on a process that sends none itself', async () => {
    const depth = async () => Number(/^switchyard_partner_postback_queue_depth (\d+)$/m.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1]);
    const before = await depth();
    await postback(server, { transaction_id: await clickTid(server, sale.token) });
    expect(await depth()).toBe(before + 1);
  });

  it('/metrics counts conversions by method and answer, refused reports too, and times postbacks', async () => {
    const scrape = async () => (await fetch(`${server.url}/metrics`)).text();
    const value = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    const approved = 'switchyard_conversions_total{method="server_postback",status="approved"}';
    const duplicate = 'switchyard_conversions_total{method="server_postback",status="duplicate"}';
    const refused = 'switchyard_conversions_total{method="server_postback",status="refused"}';
    const timed = 'switchyard_postback_duration_seconds_count';
    const before = await scrape();
    const tid = await clickTid(server, sale.token);
    await postback(server, { transaction_id: tid, order_id: 'metrics-1' });
    await postback(server, { transaction_id: tid, order_id: 'metrics-1' });
    expect((await postback(server, { transaction_id: '0123456789abcdef0123456789abcdef' })).status).toBe(404);
    expect((await postback(server, { transaction_id: 'not-a-transaction' })).status).toBe(400);
    const after = await scrape();
    expect(value(after, approved) - value(before, approved)).toBe(1);
    expect(value(after, duplicate) - value(before, duplicate)).toBe(1);
    expect(value(after, refused) - value(before, refused)).toBe(2);
    expect(value(after, timed) - value(before, timed)).toBe(4);
  });

  it('a sub value that reads "{conversion_id}" is not expanded a second time', async () => {
    const tid = await clickTid(server, sale.token, { sub1: '{conversion_id}' });
    const id = (await postback(server, { transaction_id: tid })).body.conversion_id as number;
    expect(outboxRowsFor(server, id)[0]?.url).toContain(`&cid=${id}&`);
    expect(outboxRowsFor(server, id)[0]?.url).toContain('&s1=%7Bconversion_id%7D&');
  });
});
