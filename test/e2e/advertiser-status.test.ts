import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/api-server.js';
import { clickOn, storedClicksWhere } from '../support/clicks.js';
import { create } from '../support/fixtures.js';

/**
 * An advertiser's `status` (SPEC §2): an inactive advertiser's offers take no traffic, the way a
 * paused offer does (SPEC §4.7 check 1, reason 903), and a real click and explain agree on it.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server?.close());

describe('an inactive advertiser', () => {
  it("its offers are skipped (903) by clicks and by explain until it is active again; the link warns meanwhile", async () => {
    const advertiser = await create(server, '/api/v1/advertisers', { name: 'Stopped paying' });
    const other = await create(server, '/api/v1/advertisers', { name: 'Still paying' });
    const partner = await create(server, '/api/v1/partners', { name: 'Traffic Co' });
    const stopped = await create(server, '/api/v1/offers', { advertiser_id: advertiser.id, name: 'o', destination_url: 'https://stopped.example/' });
    const fallback = await create(server, '/api/v1/offers', { advertiser_id: other.id, name: 'f', destination_url: 'https://fallback.example/' });
    const link = await create(server, '/api/v1/smart-links', {
      name: 'l', entries: [{ offer_id: stopped.id, routing_value: 0 }, { offer_id: fallback.id, routing_value: 1 }],
    });
    const token = (await server.call('POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: partner.id })).body.token as string;
    const setStatus = async (status: string) =>
      expect((await server.call('PATCH', `/api/v1/advertisers/${advertiser.id}`, { status })).status).toBe(200);

    expect((await clickOn(server.url, token)).location).toBe('https://stopped.example/');

    await setStatus('inactive');
    const answer = await clickOn(server.url, token, { sub3: 'adv-inactive' });
    expect(answer.location).toBe('https://fallback.example/');
    expect(storedClicksWhere(server.dataDir, 'sub3', 'adv-inactive')[0]?.skipped).toEqual([{ entry_id: link.entries[0].id, reason: 903 }]);
    const explained = await server.call('POST', `/api/v1/smart-links/${link.id}/explain`, { partner_id: partner.id });
    expect(explained.body.decision).toMatchObject({ outcome: 'routed', offer_id: fallback.id });
    expect(explained.body.candidates[0]).toMatchObject({ entry_id: link.entries[0].id, eligible: false, reason: 903 });
    const warnings = (await server.call('GET', `/api/v1/smart-links/${link.id}`)).body.warnings as string[];
    expect(warnings.some((w) => w.includes(`offer ${stopped.id}`))).toBe(true);

    await setStatus('active');
    expect((await clickOn(server.url, token)).location).toBe('https://stopped.example/');
  });
});
