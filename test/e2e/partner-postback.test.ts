import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../src/store/sqlite/index.js';
import { startServer, type TestServer } from '../support/api-server.js';
import { clickTid, convertingOffer, outboxRowsFor, postback } from '../support/conversions.js';
import { create } from '../support/fixtures.js';
import { answer, startReceiver, type Receiver } from '../support/postback-receiver.js';

let server: TestServer;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver();
  server = await startServer({ env: { POSTBACK_ALLOW_LOOPBACK: '1' } });
});
afterAll(async () => {
  await server.close();
  await receiver.close();
});

describe('partner postbacks end to end', () => {
  it('an approved conversion reaches the partner once, with its macros filled in', async () => {
    const advertiser = await create(server, '/api/v1/advertisers', { name: 'Acme' });
    const partner = await create(server, '/api/v1/partners', {
      name: 'Listening partner',
      postback_url: `${receiver.origin}/pb?click={transaction_id}&conv={conversion_id}&pay={payout}&s1={sub1}`,
    });
    const offer = await convertingOffer(server, advertiser.id, partner.id, { payout: { type: 'fixed', value: 1.25 } });
    const tid = await clickTid(server, offer.token, { sub1: 'spring sale' });
    const converted = await postback(server, { transaction_id: tid });
    expect(converted.body.status).toBe('approved');

    await receiver.waitForRequests(1);
    expect(receiver.requests).toHaveLength(1);
    const url = new URL(receiver.requests[0]?.url ?? '', receiver.origin);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      click: tid,
      conv: String(converted.body.conversion_id),
      pay: '1.25',
      s1: 'spring sale',
    });
    expect(receiver.requests[0]?.headers['user-agent']).toBe('Switchyard-Postback/1');
  });
});

describe('a partner that changes its postback URL while retries wait', () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const until = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await sleep(25);
  };
  /** The retry is due now instead of after its backoff. */
  const makeDue = (conversionId: number) => {
    const db = new Database(path.join(server.dataDir, DATABASE_FILE));
    db.pragma('busy_timeout = 5000');
    try {
      db.prepare('update partner_postbacks set next_attempt_at = ? where conversion_id = ?').run(new Date(0).toISOString(), conversionId);
    } finally {
      db.close();
    }
  };
  /** A partner whose URL answers 503 at first, and a conversion whose postback has failed once and waits to retry. */
  async function failedOnce(name: string, failing: string) {
    receiver.reply = (req, res, i) => (req.url?.startsWith(failing) ? answer(503) : answer(200))(req, res, i);
    const advertiser = await create(server, '/api/v1/advertisers', { name: `${name} advertiser` });
    const partner = await create(server, '/api/v1/partners', { name, postback_url: `${receiver.origin}${failing}?c={conversion_id}&t={transaction_id}` });
    const offer = await convertingOffer(server, advertiser.id, partner.id);
    const tid = await clickTid(server, offer.token);
    const conversionId = (await postback(server, { transaction_id: tid })).body.conversion_id as number;
    await until(() => outboxRowsFor(server, conversionId)[0]?.state === 'pending' && receiver.requests.some((r) => r.url.startsWith(failing)));
    return { partner, conversionId, tid };
  }

  it('the retry goes to the corrected URL, filled for the same conversion', async () => {
    const { partner, conversionId, tid } = await failedOnce('Fixes its URL', '/typo');
    expect((await server.call('PATCH', `/api/v1/partners/${partner.id}`, { postback_url: `${receiver.origin}/fixed?c={conversion_id}&t={transaction_id}` })).status).toBe(200);
    makeDue(conversionId);
    await until(() => outboxRowsFor(server, conversionId)[0]?.state === 'delivered');
    expect(receiver.requests.filter((r) => r.url.startsWith('/fixed')).map((r) => r.url)).toEqual([`/fixed?c=${conversionId}&t=${tid}`]);
  });

  it('a partner that removed its URL gets no more retries; the postback fails saying why', async () => {
    const { partner, conversionId } = await failedOnce('Stops postbacks', '/removed');
    expect((await server.call('PATCH', `/api/v1/partners/${partner.id}`, { postback_url: null })).status).toBe(200);
    makeDue(conversionId);
    await until(() => outboxRowsFor(server, conversionId)[0]?.state === 'failed');
    expect(outboxRowsFor(server, conversionId)[0]).toMatchObject({ state: 'failed', last_error: 'the partner no longer has a postback URL' });
    expect(receiver.requests.filter((r) => r.url.startsWith('/removed'))).toHaveLength(1);
  });
});

describe('failed partner postbacks, for the operator', () => {
  it('are listed with the reason, and one is sent again once the partner endpoint works', async () => {
    let down = true;
    receiver.reply = (req, res, i) => (req.url?.startsWith('/outage') && down ? answer(404) : answer(200))(req, res, i);
    const advertiser = await create(server, '/api/v1/advertisers', { name: 'Outage advertiser' });
    const partner = await create(server, '/api/v1/partners', { name: 'Outage', postback_url: `${receiver.origin}/outage?c={conversion_id}` });
    const offer = await convertingOffer(server, advertiser.id, partner.id);
    const conversionId = (await postback(server, { transaction_id: await clickTid(server, offer.token) })).body.conversion_id as number;
    // A 404 is a permanent refusal: failed at once.
    for (let i = 0; i < 200 && outboxRowsFor(server, conversionId)[0]?.state !== 'failed'; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    const failed = await server.call('GET', `/api/v1/partner-postbacks?state=failed&partner_id=${partner.id}`);
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({ total: 1, data: [{ conversion_id: conversionId, partner_id: partner.id, state: 'failed', attempts: 1, last_error: expect.stringContaining('404') }] });
    const id = failed.body.data[0].id as number;

    down = false;
    const retried = await server.call('POST', `/api/v1/partner-postbacks/${id}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ id, state: 'pending', attempts: 1, attempt_base: 1 });
    for (let i = 0; i < 200 && outboxRowsFor(server, conversionId)[0]?.state !== 'delivered'; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect((await server.call('GET', `/api/v1/partner-postbacks?conversion_id=${conversionId}`)).body.data[0]).toMatchObject({ state: 'delivered', attempts: 2 });
    expect(receiver.requests.filter((r) => r.url === `/outage?c=${conversionId}`)).toHaveLength(2);

    expect((await server.call('POST', `/api/v1/partner-postbacks/${id}/retry`)).status).toBe(409);
    expect((await server.call('POST', '/api/v1/partner-postbacks/999999/retry')).status).toBe(404);
    const partnerKey = (await server.call('POST', `/api/v1/partners/${partner.id}/api-keys`)).body.key as string;
    expect((await server.call('GET', '/api/v1/partner-postbacks', undefined, { key: partnerKey })).status).toBe(403);
  });
});

