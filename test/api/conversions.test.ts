import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/api-server.js';
import { clickTid, convertingOffer, postback, storeClickAt, type ConvertingOffer } from '../support/conversions.js';
import { create } from '../support/fixtures.js';

/** `GET /api/v1/conversions` (SPEC §3, §10.3): filters, pagination and what a partner key may see. */

let server: TestServer;
let partnerA: number;
let partnerB: number;
let keyB: string;
let offerA: ConvertingOffer;
let offerB: ConvertingOffer;
let rejectedTid: string;

beforeAll(async () => {
  server = await startServer();
  const advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Acme' })).id;
  partnerA = (await create(server, '/api/v1/partners', { name: 'Partner A' })).id;
  partnerB = (await create(server, '/api/v1/partners', { name: 'Partner B' })).id;
  keyB = (await server.call('POST', `/api/v1/partners/${partnerB}/api-keys`)).body.key;
  const money = { payout: { type: 'fixed', value: 2 }, revenue: { type: 'fixed', value: 3.5 }, attribution_window_days: 1 };
  offerA = await convertingOffer(server, advertiserId, partnerA, money);
  offerB = await convertingOffer(server, advertiserId, partnerB, money);
  for (let i = 0; i < 3; i++) await postback(server, { transaction_id: await clickTid(server, offerA.token) });
  for (let i = 0; i < 2; i++) await postback(server, { transaction_id: await clickTid(server, offerB.token) });
  rejectedTid = await storeClickAt(server, await clickTid(server, offerA.token), new Date(Date.now() - 3 * 86_400_000));
  await postback(server, { transaction_id: rejectedTid });
});
afterAll(async () => server?.close());

describe('GET /api/v1/conversions', () => {
  it('lists every conversion for an admin, newest first, with revenue, paginated', async () => {
    const all = await server.call('GET', '/api/v1/conversions?page_size=4');
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ page: 1, page_size: 4, total: 6 });
    expect(all.body.data).toHaveLength(4);
    expect(all.body.data[0]).toMatchObject({ payout: 2, revenue: 3.5 });
    const ids = all.body.data.map((c: { id: number }) => c.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect((await server.call('GET', '/api/v1/conversions?page=2&page_size=4')).body.data).toHaveLength(2);
  });

  it('filters by offer, partner, smart link, status and time', async () => {
    const count = async (query: string) => (await server.call('GET', `/api/v1/conversions?${query}`)).body.total;
    expect(await count(`offer_id=${offerA.offerId}`)).toBe(4);
    expect(await count(`partner_id=${partnerB}`)).toBe(2);
    expect(await count(`smart_link_id=${offerB.smartLinkId}`)).toBe(2);
    expect(await count('status=rejected')).toBe(1);
    expect(await count(`status=approved&partner_id=${partnerA}`)).toBe(3);
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    expect(await count(`from=${encodeURIComponent(hourAgo)}`)).toBe(6);
    expect(await count(`to=${encodeURIComponent(hourAgo)}`)).toBe(0);
  });

  it('a bound past the year 9999 in UTC (9999-12-31T23:00:00-05:00) is refused, not read as matching nothing or everything', async () => {
    // Its ISO text is +010000-…, which sorted before every stored time.
    for (const query of ['to=9999-12-31T23:00:00-05:00', 'from=9999-12-31T23:00:00-05:00']) {
      const res = await server.call('GET', `/api/v1/conversions?${query.replace(/[:+]/g, encodeURIComponent)}`);
      expect(res.status).toBe(400);
      expect(res.body.error.details[0].message).toMatch(/years 0001–9999 in UTC/);
    }
    expect((await server.call('GET', `/api/v1/conversions?to=${encodeURIComponent('9999-12-31T23:59:59Z')}`)).body.total).toBe(6);
  });

  it('refuses bad filters and page sizes over 500 with validation_failed', async () => {
    for (const query of ['page_size=501', 'status=paid', 'from=yesterday', 'offer_id=0', 'colour=red']) {
      const res = await server.call('GET', `/api/v1/conversions?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
  });

  it("a partner key lists only that partner's conversions, without revenue or advertiser, and never another partner's", async () => {
    const own = await server.call('GET', '/api/v1/conversions', undefined, { key: keyB });
    expect(own.status).toBe(200);
    expect(own.body.total).toBe(2);
    for (const conversion of own.body.data) {
      expect(conversion.partner_id).toBe(partnerB);
      expect(conversion).not.toHaveProperty('revenue');
      expect(conversion).not.toHaveProperty('profit');
      expect(conversion).not.toHaveProperty('advertiser_id');
      expect(conversion.payout).toBe(2);
    }
    const other = await server.call('GET', `/api/v1/conversions?partner_id=${partnerA}`, undefined, { key: keyB });
    expect(other.body).toMatchObject({ total: 0, data: [] });
    const byOffer = await server.call('GET', `/api/v1/conversions?offer_id=${offerA.offerId}`, undefined, { key: keyB });
    expect(byOffer.body.total).toBe(0);
    expect((await server.call('GET', '/api/v1/conversions', undefined, { key: null })).status).toBe(401);
  });

  it('is described in the OpenAPI document, as are the postback and pixel endpoints', async () => {
    const doc = (await server.call('GET', '/openapi.json')).body;
    expect(doc.paths['/api/v1/conversions'].get).toBeDefined();
    expect(doc.paths['/postback'].get).toBeDefined();
    expect(doc.paths['/postback'].post).toBeDefined();
    expect(doc.paths['/pixel'].get).toBeDefined();
  });
});

describe('smart-link warning for cookie offers', () => {
  it('warns when a link holds a cookie-converting offer but has no tracking domain, and not once it has one', async () => {
    const advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Cookie Co' })).id;
    const offer = await create(server, '/api/v1/offers', {
      advertiser_id: advertiserId, name: 'pixel offer', destination_url: 'https://shop.example/', conversion_method: 'cookie',
    });
    const unpinned = await create(server, '/api/v1/smart-links', { name: 'unpinned', tracking_domain_id: null, entries: [{ offer_id: offer.id }] });
    expect(unpinned.warnings).toEqual([expect.stringContaining(`offers ${offer.id} convert by cookie pixel`)]);

    const domain = await create(server, '/api/v1/tracking-domains', { host: 'track.example.com' });
    const pinned = await create(server, '/api/v1/smart-links', { name: 'pinned', tracking_domain_id: domain.id, entries: [{ offer_id: offer.id }] });
    expect(pinned.warnings).toEqual([]);
  });

  it('warns as well when the cookie-converting offer is the catch-all, whose clicks convert by the same cookie', async () => {
    const advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Cookie Catch-all Co' })).id;
    const byPostback = await create(server, '/api/v1/offers', { advertiser_id: advertiserId, name: 'postback offer', destination_url: 'https://shop.example/' });
    const byPixel = await create(server, '/api/v1/offers', {
      advertiser_id: advertiserId, name: 'pixel catch-all', destination_url: 'https://shop.example/', conversion_method: 'cookie',
    });
    const link = await create(server, '/api/v1/smart-links', {
      name: 'unpinned with a pixel catch-all', tracking_domain_id: null, entries: [{ offer_id: byPostback.id }], catch_all_offer_id: byPixel.id,
    });
    expect(link.tracking_domain_id).toBeNull();
    expect(link.warnings).toEqual([expect.stringContaining(`offers ${byPixel.id} convert by cookie pixel`)]);
  });
});
