import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/api-server.js';
import { clickTid, convertingOffer, postback } from '../support/conversions.js';
import { create } from '../support/fixtures.js';
import { startReceiver, type Receiver } from '../support/postback-receiver.js';

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
