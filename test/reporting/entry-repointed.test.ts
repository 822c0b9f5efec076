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

describe('general report after an entry is removed from its link', () => {
  it('still names the entry after the offer its clicks reached, as the smart-link report does', async () => {
    const advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Acme' })).id;
    const partnerId = (await create(server, '/api/v1/partners', { name: 'Partner' })).id;
    const first = await convertingOffer(server, advertiserId, partnerId, { name: 'Removed entry offer' });
    const second = await create(server, '/api/v1/offers', { advertiser_id: advertiserId, name: 'Kept entry offer', destination_url: 'https://two.example/?tid={transaction_id}' });
    await clickTid(server, first.token);
    const patched = await server.call('PATCH', `/api/v1/smart-links/${first.smartLinkId}`, { entries: [{ offer_id: second.id }] });
    expect(patched.status).toBe(200);
    const kept = patched.body.entries[0].id as number;
    await clickTid(server, first.token);

    const filter = `filter[smart_link]=${first.smartLinkId}`;
    const byEntry = await server.call('GET', `/api/v1/reports?group_by=entry&${filter}`);
    expect(byEntry.body.rows.map((r: Record<string, unknown>) => [r.entry_id, r.entry_name, r.clicks])).toEqual([
      [first.entryId, 'Removed entry offer', 1], [kept, 'Kept entry offer', 1],
    ]);
    const byEntryAndOffer = await server.call('GET', `/api/v1/reports?group_by=entry,offer&${filter}`);
    expect(byEntryAndOffer.body.rows.map((r: Record<string, unknown>) => [r.entry_id, r.entry_name, r.offer_name])).toEqual([
      [first.entryId, 'Removed entry offer', 'Removed entry offer'], [kept, 'Kept entry offer', 'Kept entry offer'],
    ]);
  });
});
