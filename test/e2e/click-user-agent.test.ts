import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/api-server.js';
import { clickOn, transactionIdIn } from '../support/clicks.js';
import { create } from '../support/fixtures.js';

/**
 * A click's User-Agent header is the visitor's to choose, and a request header may be 64 KiB. What
 * a click stores of it is bounded, like its query values (SPEC §4.1); it still routes and parses.
 */

let server: TestServer;
let token: string;

const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

beforeAll(async () => {
  server = await startServer({ env: { TRUST_PROXY: '127.0.0.1' } });
  const advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Acme' })).id;
  const partnerId = (await create(server, '/api/v1/partners', { name: 'Traffic Co' })).id;
  const offer = await create(server, '/api/v1/offers', {
    advertiser_id: advertiserId,
    name: 'Offer',
    destination_url: 'https://dest.example/?tid={transaction_id}',
    duplicate_filter: { enabled: true, identifier: 'ip_user_agent', window_hours: 24, action: 'block' },
  });
  const link = await create(server, '/api/v1/smart-links', { name: 'Link', entries: [{ offer_id: offer.id }] });
  const res = await server.call('POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: partnerId });
  expect(res.status).toBe(201);
  token = res.body.token as string;
});
afterAll(async () => server?.close());

async function storedClick(userAgent: string, ip: string) {
  const answer = await clickOn(server.url, token, {}, { 'user-agent': userAgent, 'x-forwarded-for': ip });
  expect(answer.status).toBe(302);
  const res = await server.call('GET', `/api/v1/clicks/${transactionIdIn(answer.location)}`);
  expect(res.status).toBe(200);
  return res.body;
}

describe('a very long user agent', () => {
  it('is stored cut to 1,024 characters, not whole (~60 kB a click); the click is routed and parsed as before', async () => {
    const long = `${IPHONE} ${'x'.repeat(60_000)}`;
    const click = await storedClick(long, '198.51.100.20');
    expect(click.outcome).toBe('routed');
    expect(click.user_agent).toBe(long.slice(0, 1024));
    expect(click.device.os).toBe('iOS');
  });

  it('is the same visitor on its next click for the ip_user_agent duplicate filter', async () => {
    const long = `${IPHONE} ${'y'.repeat(30_000)}`;
    expect((await storedClick(long, '198.51.100.21')).is_unique).toBe(true);
    // Blocked as a duplicate (reason 21): no redirect to the offer.
    const again = await clickOn(server.url, token, {}, { 'user-agent': long, 'x-forwarded-for': '198.51.100.21' });
    expect(again.status).not.toBe(302);
    expect((await storedClick(long, '198.51.100.22')).is_unique).toBe(true);
  });

  it('a usual one is stored whole', async () => {
    expect((await storedClick(IPHONE, '198.51.100.23')).user_agent).toBe(IPHONE);
  });
});
