import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PARTNER_MINTED_LINKS_MAX } from '../../src/http/api/tracking-links.js';
import { DATABASE_FILE } from '../../src/store/sqlite/index.js';
import { startServer, type TestServer } from '../support/api-server.js';
import { basicNetwork, create } from '../support/fixtures.js';

let server: TestServer;
let n: Awaited<ReturnType<typeof basicNetwork>>;
let partnerKey: string;
let otherPartnerId: number;

beforeAll(async () => {
  server = await startServer({ env: { PUBLIC_URL: 'https://track.example.net' } });
  n = await basicNetwork(server);
  otherPartnerId = (await create(server, '/api/v1/partners', { name: 'Other partner' })).id;
  partnerKey = (await server.call('POST', `/api/v1/partners/${n.partner.id}/api-keys`)).body.key;
});
afterAll(async () => server.close());

describe('tracking links', () => {
  it('an admin mints a link for a partner with a random URL-safe token of at least 128 bits', async () => {
    const res = await server.call('POST', `/api/v1/smart-links/${n.smartLink.id}/tracking-links`, { partner_id: n.partner.id, sub1: 'campaign-7' });
    expect(res.status).toBe(201);
    expect(res.body.token).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    expect(res.body).toMatchObject({ smart_link_id: n.smartLink.id, partner_id: n.partner.id, sub1: 'campaign-7', sub2: null });
    expect(res.body.url).toBe(`https://track.example.net/sl/${res.body.token}`);
    const again = await server.call('POST', `/api/v1/smart-links/${n.smartLink.id}/tracking-links`, { partner_id: n.partner.id });
    expect(again.body.token).not.toBe(res.body.token);
  });

  it("the URL uses the smart link's tracking domain", async () => {
    const domain = await create(server, '/api/v1/tracking-domains', { host: 'clicks.brand.example' });
    const link = await create(server, '/api/v1/smart-links', { name: 'Branded', tracking_domain_id: domain.id, entries: [{ offer_id: n.offer.id }] });
    const res = await server.call('POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: n.partner.id });
    expect(res.body.url).toBe(`https://clicks.brand.example/sl/${res.body.token}`);
  });

  it('a partner mints only for itself and only on smart links visible to partners', async () => {
    const visible = await create(server, '/api/v1/smart-links', { name: 'Visible', visible_to_partners: true, entries: [{ offer_id: n.offer.id }] });
    const own = await server.call('POST', `/api/v1/smart-links/${visible.id}/tracking-links`, {}, { key: partnerKey });
    expect(own.status).toBe(201);
    expect(own.body.partner_id).toBe(n.partner.id);
    const forOther = await server.call('POST', `/api/v1/smart-links/${visible.id}/tracking-links`, { partner_id: otherPartnerId }, { key: partnerKey });
    expect(forOther.status).toBe(403);
    const hidden = await server.call('POST', `/api/v1/smart-links/${n.smartLink.id}/tracking-links`, {}, { key: partnerKey });
    expect(hidden.status).toBe(404);

    await server.call('POST', `/api/v1/smart-links/${visible.id}/tracking-links`, { partner_id: otherPartnerId });
    const partnerList = await server.call('GET', `/api/v1/smart-links/${visible.id}/tracking-links`, undefined, { key: partnerKey });
    expect(partnerList.body.data.map((l: { partner_id: number }) => l.partner_id)).toEqual([n.partner.id]);
    const adminList = await server.call('GET', `/api/v1/smart-links/${visible.id}/tracking-links`);
    expect(adminList.body.total).toBe(2);
  });

  it('on a link not shown to partners, a partner reads the tracking links an admin minted for it and its own report, but mints none', async () => {
    const hidden = await create(server, '/api/v1/smart-links', { name: 'Hidden', entries: [{ offer_id: n.offer.id }] });
    const asPartner = { key: partnerKey };
    expect((await server.call('GET', `/api/v1/smart-links/${hidden.id}/tracking-links`, undefined, asPartner)).status).toBe(404);
    expect((await server.call('GET', `/api/v1/smart-links/${hidden.id}/report`, undefined, asPartner)).status).toBe(404);

    const minted = await server.call('POST', `/api/v1/smart-links/${hidden.id}/tracking-links`, { partner_id: n.partner.id });
    await server.call('POST', `/api/v1/smart-links/${hidden.id}/tracking-links`, { partner_id: otherPartnerId });
    const list = await server.call('GET', `/api/v1/smart-links/${hidden.id}/tracking-links`, undefined, asPartner);
    expect(list.status).toBe(200);
    expect(list.body.data.map((l: { token: string }) => l.token)).toEqual([minted.body.token]);
    const report = await server.call('GET', `/api/v1/smart-links/${hidden.id}/report`, undefined, asPartner);
    expect(report.status).toBe(200);
    expect(report.body.smart_link_id).toBe(hidden.id);
    expect((await server.call('POST', `/api/v1/smart-links/${hidden.id}/tracking-links`, {}, asPartner)).status).toBe(404);
  });

  it('minting needs an existing partner and a live smart link', async () => {
    expect((await server.call('POST', `/api/v1/smart-links/${n.smartLink.id}/tracking-links`, {})).status).toBe(400);
    expect((await server.call('POST', `/api/v1/smart-links/${n.smartLink.id}/tracking-links`, { partner_id: 999999 })).status).toBe(400);
    expect((await server.call('POST', '/api/v1/smart-links/999999/tracking-links', { partner_id: n.partner.id })).status).toBe(404);
    expect((await server.call('POST', `/api/v1/smart-links/${n.smartLink.id}/tracking-links`, { partner_id: n.partner.id, sub1: 'x'.repeat(513) })).status).toBe(400);
  });
});

describe('how many tracking links a partner key may mint', () => {
  it(`stops at ${PARTNER_MINTED_LINKS_MAX} with a 409 that says what to do; an admin key still mints for that partner`, async () => {
    const partner = await create(server, '/api/v1/partners', { name: 'Minting in a loop' });
    const key = (await server.call('POST', `/api/v1/partners/${partner.id}/api-keys`)).body.key;
    const visible = await create(server, '/api/v1/smart-links', { name: 'Open to partners', visible_to_partners: true, entries: [{ offer_id: n.offer.id }] });
    const first = await server.call('POST', `/api/v1/smart-links/${visible.id}/tracking-links`, {}, { key });
    expect(first.status).toBe(201);
    // The links minted before, at once (minting them one request at a time would take minutes).
    const db = new Database(path.join(server.dataDir, DATABASE_FILE));
    db.prepare(`with recursive n(i) as (select 1 union all select i + 1 from n where i < ?)
      insert into tracking_links (token, smart_link_id, partner_id, data, created_at)
      select token || '-' || i, smart_link_id, partner_id, data, created_at from tracking_links, n where token = ?`).run(PARTNER_MINTED_LINKS_MAX - 2, first.body.token);
    db.close();

    expect((await server.call('POST', `/api/v1/smart-links/${visible.id}/tracking-links`, {}, { key })).status).toBe(201);
    const refused = await server.call('POST', `/api/v1/smart-links/${visible.id}/tracking-links`, {}, { key });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/reuse one/);
    expect((await server.call('POST', `/api/v1/smart-links/${visible.id}/tracking-links`, { partner_id: partner.id })).status).toBe(201);
  });
});
