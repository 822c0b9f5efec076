import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/api-server.js';
import { clickTid, convertingOffer, type ConvertingOffer } from '../support/conversions.js';
import { create } from '../support/fixtures.js';

/**
 * Each conversion's payout and revenue fit in 2^53 micros (SPEC §2: stored exactly), but nothing
 * bounds how many there are, and a cookie pixel reports whatever amount the page (or the visitor
 * holding the cookie) puts in it: the sums read back for reports and for the caps counters at
 * start must not fail once they pass what a 64-bit integer holds.
 */

const LARGEST_AMOUNT = '9007199254.7409';

let server: TestServer;
let advertiserId: number;
let partnerId: number;

beforeAll(async () => {
  server = await startServer();
  advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Shop' })).id;
  partnerId = (await create(server, '/api/v1/partners', { name: 'Traffic Co' })).id;
});
afterAll(async () => server?.close());

/** A sale tracked by the cookie pixel, earning the whole amount the pixel reports. */
const shopOffer = () =>
  convertingOffer(server, advertiserId, partnerId, {
    conversion_method: 'cookie',
    revenue: { type: 'percent', value: 100 },
    payout: { type: 'percent', value: 10 },
    caps: [{ metric: 'conversions', period: 'daily', limit: 100_000, mode: 'hard' }],
  });

/** `count` clicks on the offer's link, each converted by its browser's pixel with the largest amount. */
async function pixelConversions(offer: ConvertingOffer, count: number): Promise<void> {
  for (let done = 0; done < count; done += 100) {
    const tids = await Promise.all(Array.from({ length: Math.min(100, count - done) }, () => clickTid(server, offer.token)));
    await Promise.all(tids.map(async (tid) => {
      const pixel = await fetch(`${server.url}/pixel?offer_id=${offer.offerId}&amount=${LARGEST_AMOUNT}`, { headers: { cookie: `sy_o${offer.offerId}=${tid}` } });
      await pixel.arrayBuffer();
    }));
  }
  expect((await server.call('GET', `/api/v1/conversions?offer_id=${offer.offerId}&status=approved&page_size=1`)).body.total).toBe(count);
}

describe('money sums past 2^63 micros', () => {
  it('the general report over two offers of 520 such conversions each answers, not 500', async () => {
    await pixelConversions(await shopOffer(), 520);
    await pixelConversions(await shopOffer(), 520);
    for (const groupBy of ['', 'day', 'partner']) {
      const report = await server.call('GET', `/api/v1/reports${groupBy ? `?group_by=${groupBy}` : ''}`);
      expect(report.status, `${groupBy}: ${JSON.stringify(report.body)}`).toBe(200);
      expect(report.body.totals.conversions).toBe(1040);
    }
  }, 60_000);

  it('1,100 such conversions of one offer do not stop the server from starting again, and its counters are read back', async () => {
    const shop = await shopOffer();
    await pixelConversions(shop, 1100);
    const { dataDir } = server;
    await server.close();
    server = await startServer({ dataDir });
    const explained = await server.call('POST', `/api/v1/smart-links/${shop.smartLinkId}/explain`, { partner_id: partnerId, ip: '203.0.113.7' });
    expect(explained.status, JSON.stringify(explained.body)).toBe(200);
    expect(explained.body.candidates[0].caps).toEqual([expect.objectContaining({ metric: 'conversions', period: 'daily', used: 1100 })]);
  }, 60_000);
});
