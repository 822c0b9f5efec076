import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/api-server.js';
import { clickTid, convertingOffer } from '../support/conversions.js';
import { create } from '../support/fixtures.js';

/** SPEC §11: the smart-link report's entry rows count each click under the offer it reached, also after the entry is pointed at another offer. */

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { POSTBACK_CONCURRENCY: '0' } });
});
afterAll(async () => server?.close());

describe('smart-link report after an entry is pointed at another offer', () => {
  it("gives the entry one row per offer: the new offer's clicks are not credited to the old one", async () => {
    const advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Acme' })).id;
    const partnerId = (await create(server, '/api/v1/partners', { name: 'Partner' })).id;
    const first = await convertingOffer(server, advertiserId, partnerId);
    const second = await create(server, '/api/v1/offers', { advertiser_id: advertiserId, name: 'Second', destination_url: 'https://two.example/?tid={transaction_id}' });
    await clickTid(server, first.token);
    const patched = await server.call('PATCH', `/api/v1/smart-links/${first.smartLinkId}`, { entries: [{ id: first.entryId, offer_id: second.id }] });
    expect(patched.body.entries[0]).toMatchObject({ id: first.entryId, offer_id: second.id });
    const answer = await fetch(`${server.url}/sl/${first.token}`, { redirect: 'manual' });
    expect(answer.headers.get('location')).toContain('two.example');

    const report = await server.call('GET', `/api/v1/smart-links/${first.smartLinkId}/report`);
    const clicksOf = (offerId: number) => report.body.entries.filter((e: { offer_id: number }) => e.offer_id === offerId).reduce((s: number, e: { clicks: number }) => s + e.clicks, 0);
    expect([clicksOf(first.offerId), clicksOf(second.id)]).toEqual([1, 1]);
  });
});
