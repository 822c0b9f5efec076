import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/api-server.js';
import { clickTid, convertingOffer, postback, storedConversions, type ConvertingOffer } from '../support/conversions.js';
import { create } from '../support/fixtures.js';

/**
 * What makes two postbacks the same conversion (SPEC §10.1): the same (transaction_id, event_id,
 * order_id) is a duplicate whatever changed on the offer in between, and an order id is the id the
 * advertiser sent, to the last digit.
 */

let server: TestServer;
let advertiserId: number;
let partnerId: number;
let repeatable: ConvertingOffer;

beforeAll(async () => {
  server = await startServer({ env: { POSTBACK_CONCURRENCY: '0', BODY_LIMIT_BYTES: '131072' } });
  advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Acme' })).id;
  partnerId = (await create(server, '/api/v1/partners', { name: 'Traffic Co', postback_url: 'https://partner.example/pb?c={conversion_id}' })).id;
  repeatable = await convertingOffer(server, advertiserId, partnerId, { allow_duplicate_conversions: true });
});
afterAll(async () => server?.close());

describe('a replay after allow_duplicate_conversions changed', () => {
  it.each([
    ['turned on', false, true],
    ['turned off', true, false],
  ])('is a duplicate of the conversion it repeats (setting %s in between)', async (_what, before, after) => {
    const offer = await convertingOffer(server, advertiserId, partnerId, { allow_duplicate_conversions: before, payout: { type: 'fixed', value: 5 } });
    const tid = await clickTid(server, offer.token);
    const params = { transaction_id: tid, order_id: 'ORDER-1', amount: '50' };
    const first = await postback(server, params);
    expect(first.body.status).toBe('approved');
    expect((await server.call('PATCH', `/api/v1/offers/${offer.offerId}`, { allow_duplicate_conversions: after })).status).toBe(200);
    expect((await postback(server, params)).body).toEqual({ status: 'duplicate', conversion_id: first.body.conversion_id });
    expect(storedConversions(server, tid)).toHaveLength(1);
    // A new order after all: converts again only where duplicates are allowed now.
    expect((await postback(server, { ...params, order_id: 'ORDER-2' })).body.status).toBe(after ? 'approved' : 'duplicate');
  });

  it('answers the id of the order it repeats, not the click\'s first conversion', async () => {
    const offer = await convertingOffer(server, advertiserId, partnerId, { allow_duplicate_conversions: true });
    const tid = await clickTid(server, offer.token);
    const first = await postback(server, { transaction_id: tid, order_id: 'ORDER-1' });
    const second = await postback(server, { transaction_id: tid, order_id: 'ORDER-2' });
    expect([first.body.status, second.body.status]).toEqual(['approved', 'approved']);
    expect((await server.call('PATCH', `/api/v1/offers/${offer.offerId}`, { allow_duplicate_conversions: false })).status).toBe(200);
    expect((await postback(server, { transaction_id: tid, order_id: 'ORDER-2' })).body).toEqual({ status: 'duplicate', conversion_id: second.body.conversion_id });
  });
});

describe('numbers in a JSON postback', () => {
  /** A JSON body written by hand, so the numbers are exactly the digits an advertiser's system sent. */
  const postJson = async (text: string) => {
    const res = await fetch(`${server.url}/postback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
    return { status: res.status, body: (await res.json()) as { status: string; error?: { code: string } } };
  };

  it('keep every digit: two 64-bit order ids are two orders, each stored under the id sent; amounts stay exact', async () => {
    const tid = await clickTid(server, repeatable.token);
    expect((await postJson(`{"transaction_id":"${tid}","order_id":9007199254740993,"amount":19.99}`)).body.status).toBe('approved');
    expect((await postJson(`{"transaction_id":"${tid}","order_id":9007199254740992,"amount":0.1}`)).body.status).toBe('approved');
    expect(storedConversions(server, tid).map((c) => [c.order_id, c.amount_micros])).toEqual([
      ['9007199254740993', 19_990_000], ['9007199254740992', 100_000],
    ]);
  });

  it.each([
    ['a fixed-scale decimal', '"amount":19.990000', 19_990_000, null],
    ['an exponent (as Java writes a double)', '"amount":1.0E7', 10_000_000_000_000, null],
    ['a repeated key (the last wins, as JSON.parse has it)', '"amount":"1","amount":"2"', 2_000_000, null],
    ['a number past the range of a double, kept as sent', '"order_id":1e999', null, '1e999'],
  ])('other than integers, read as JSON.parse reads them: %s', async (_what, fields, micros, orderId) => {
    const tid = await clickTid(server, repeatable.token);
    const answer = await postJson(`{"transaction_id":"${tid}",${fields}}`);
    expect(answer.status).toBe(200);
    expect(storedConversions(server, tid).map((c) => [c.amount_micros, c.order_id])).toEqual([[micros, orderId]]);
  });

  it('a body starting with a byte order mark is read', async () => {
    const tid = await clickTid(server, repeatable.token);
    expect((await postJson(`\ufeff{"transaction_id":"${tid}","amount":"5"}`)).status).toBe(200);
  });

  it('a body that is not JSON is a 400 validation_failed', async () => {
    const answer = await postJson('{"transaction_id": ');
    expect(answer.status).toBe(400);
    expect(answer.body.error?.code).toBe('validation_failed');
  });

  it('a JSON body that is not an object (an array, a lone value) is a 400 and stores nothing, not a conversion from the query alone', async () => {
    const tid = await clickTid(server, repeatable.token);
    for (const body of [`[{"event_id":"deposit","amount":"100"}]`, '"event_id=deposit"', '100']) {
      const res = await fetch(`${server.url}/postback?transaction_id=${tid}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status, body).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('validation_failed');
    }
    expect(storedConversions(server, tid)).toEqual([]);
  });
});

describe('a multipart/form-data postback (what PHP cURL sends for an array of fields)', () => {
  it('is read as a form', async () => {
    const tid = await clickTid(server, repeatable.token);
    const form = new FormData();
    form.set('transaction_id', tid);
    form.set('amount', '12.5');
    form.set('order_id', 'M-1');
    const res = await fetch(`${server.url}/postback`, { method: 'POST', body: form });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('approved');
    expect(storedConversions(server, tid)).toEqual([expect.objectContaining({ amount_micros: 12_500_000, order_id: 'M-1' })]);
  });

  it('larger than BODY_LIMIT_BYTES is a 413, as a JSON or form body is', async () => {
    const tid = await clickTid(server, repeatable.token);
    const form = new FormData();
    form.set('transaction_id', tid);
    for (let i = 0; i < 40; i++) form.set(`filler${i}`, 'x'.repeat(4000)); // each field within its own limit
    const res = await fetch(`${server.url}/postback`, { method: 'POST', body: form });
    expect(res.status).toBe(413);
    expect(storedConversions(server, tid)).toEqual([]);
  });

  it('cut short is refused, not read in part', async () => {
    const tid = await clickTid(server, repeatable.token);
    const boundary = 'cut';
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="transaction_id"\r\n\r\n${tid}\r\n--${boundary}\r\nContent-Disposition: form-data; name="order_id"\r\n\r\nORD`;
    const res = await fetch(`${server.url}/postback`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body });
    expect(res.status).toBe(400);
    expect(storedConversions(server, tid)).toEqual([]);
  });

  it('with a file in it is refused with a 4xx and stores nothing', async () => {
    const tid = await clickTid(server, repeatable.token);
    const form = new FormData();
    form.set('transaction_id', tid);
    form.set('upload', new Blob(['x'.repeat(100)]), 'a.txt');
    const res = await fetch(`${server.url}/postback`, { method: 'POST', body: form });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(storedConversions(server, tid)).toEqual([]);
  });
});

describe('a malformed multipart postback', () => {
  it('is a 400 validation_failed (the sender can fix it), not a 500 that asks for retries', async () => {
    const res = await fetch(`${server.url}/postback`, { method: 'POST', headers: { 'content-type': 'multipart/form-data' }, body: 'transaction_id=x' });
    const body = (await res.json()) as { error: { code: string } };
    expect(res.status, JSON.stringify(body)).toBe(400);
    expect(body.error.code).toBe('validation_failed');
  });
});

describe('a postback body labelled text/plain (what fetch sends for a string body without a Content-Type)', () => {
  it('is read as the JSON or form it holds: the conversion keeps the amount, event and order it carried', async () => {
    const offer = await convertingOffer(server, advertiserId, partnerId, { payout: { type: 'percent', value: 10 } });
    const bodies = [JSON.stringify({ event_id: 'deposit', amount: '100', order_id: 'D-1' }), 'event_id=deposit&amount=100&order_id=D-1'];
    for (const body of bodies) {
      const tid = await clickTid(server, offer.token);
      const res = await fetch(`${server.url}/postback?transaction_id=${tid}`, { method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8' }, body });
      expect(res.status, await res.text()).toBe(200);
      expect(storedConversions(server, tid), body).toEqual([expect.objectContaining({ event_key: 'deposit', amount_micros: 100_000_000, payout_micros: 10_000_000 })]);
    }
  });

  it('a JSON body labelled a form (what PHP cURL sends for a JSON string) is read as JSON', async () => {
    const offer = await convertingOffer(server, advertiserId, partnerId, { payout: { type: 'percent', value: 10 } });
    const tid = await clickTid(server, offer.token);
    const res = await fetch(`${server.url}/postback?transaction_id=${tid}`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: JSON.stringify({ event_id: 'deposit', amount: '100' }),
    });
    expect(res.status, await res.text()).toBe(200);
    expect(storedConversions(server, tid)).toEqual([expect.objectContaining({ event_key: 'deposit', amount_micros: 100_000_000 })]);
  });

  it('a body that only starts like JSON ([object Object], what fetch sends for an object body) is read as a form, as before: the query converts', async () => {
    const tid = await clickTid(server, repeatable.token);
    const res = await fetch(`${server.url}/postback?transaction_id=${tid}&amount=7`, { method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: '[object Object]' });
    expect(res.status, await res.text()).toBe(200);
    expect(storedConversions(server, tid)[0]?.amount_micros).toBe(7_000_000);
  });

  it('an empty one is no body, as with the other types: the query is the postback', async () => {
    const tid = await clickTid(server, repeatable.token);
    const res = await fetch(`${server.url}/postback?transaction_id=${tid}&amount=5`, { method: 'POST', headers: { 'content-type': 'text/plain' } });
    expect(res.status, await res.text()).toBe(200);
    expect(storedConversions(server, tid)[0]?.amount_micros).toBe(5_000_000);
  });
});

describe('a form postback in the character set its Content-Type names (ISO-8859-1 from older PHP shops)', () => {
  it('is decoded in that character set: two orders that differ in an accented letter are two orders, stored as sent', async () => {
    const tid = await clickTid(server, repeatable.token);
    const send = (body: string) =>
      fetch(`${server.url}/postback`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=ISO-8859-1' }, body });
    // é and ü in ISO-8859-1: read as UTF-8 both became U+FFFD, one order id, and the second order a duplicate.
    const first = await send(`transaction_id=${tid}&order_id=Comm%E9-1&adv1=M%FCller+%26+S%F6hne`);
    const second = await send(`transaction_id=${tid}&order_id=Comm%FC-1`);
    expect(first.status).toBe(200);
    expect(((await second.json()) as { status: string }).status).toBe('approved');
    expect(storedConversions(server, tid).map((row) => row.order_id)).toEqual(['Commé-1', 'Commü-1']);
    const listed = await server.call('GET', `/api/v1/conversions?offer_id=${repeatable.offerId}&page_size=500`);
    expect(listed.body.data.find((c: { order_id: string }) => c.order_id === 'Commé-1')?.adv1).toBe('Müller & Söhne');
  });

  it('decodes a character of several bytes as one, and takes a quoted charset', async () => {
    const tid = await clickTid(server, repeatable.token);
    // 中文 in GBK: two bytes each, which decode to nothing one at a time.
    const gbk = await fetch(`${server.url}/postback`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=GBK' }, body: `transaction_id=${tid}&order_id=%D6%D0%CE%C4-1` });
    expect(gbk.status).toBe(200);
    const quoted = await fetch(`${server.url}/postback`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded; charset="ISO-8859-1"' }, body: `transaction_id=${tid}&order_id=Comm%E9-2` });
    expect(quoted.status).toBe(200);
    // ア in Shift_JIS is 0x83 0x41: a form encoder sends the second byte as the plain letter A.
    const sjis = await fetch(`${server.url}/postback`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=Shift_JIS' }, body: `transaction_id=${tid}&order_id=%83A-3` });
    expect(sjis.status).toBe(200);
    expect(storedConversions(server, tid).map((row) => row.order_id)).toEqual(['中文-1', 'Commé-2', 'ア-3']);
  });

  it('a form without a charset, or in UTF-8, is read as UTF-8 as before', async () => {
    const tid = await clickTid(server, repeatable.token);
    for (const contentType of ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8']) {
      const res = await fetch(`${server.url}/postback`, { method: 'POST', headers: { 'content-type': contentType }, body: `transaction_id=${tid}&order_id=${encodeURIComponent(`Commé ${contentType.length}`)}` });
      expect(res.status).toBe(200);
    }
    expect(storedConversions(server, tid).map((row) => row.order_id)).toEqual(['Commé 33', 'Commé 48']);
  });
});

describe('an order id written in braces (a .NET GUID in its "B" format)', () => {
  it('is an order id, not an unfilled macro: two orders are two conversions, stored as sent', async () => {
    const tid = await clickTid(server, repeatable.token);
    const orders = ['{3F2504E0-4F89-11D3-9A0C-0305E82C3301}', '{ABCDEF01-7425-40DE-944B-E07FC1F90AE7}'] as const;
    for (const order of orders) expect((await postback(server, { transaction_id: tid, order_id: order, amount: '10' })).body.status).toBe('approved');
    expect((await postback(server, { transaction_id: tid, order_id: orders[0], amount: '10' })).body.status).toBe('duplicate');
    expect(storedConversions(server, tid).map((c) => c.order_id)).toEqual(orders);
  });
});
