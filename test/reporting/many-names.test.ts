import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/api-server.js';
import { testClock } from '../support/clock.js';
import { clickTid, convertingOffer, storeClickCopies } from '../support/conversions.js';
import { create } from '../support/fixtures.js';
import { parseCsv } from './expected.js';

/**
 * SPEC §11: a report grouped by an entity names every row, however many entities it holds. The
 * names were read with one `id in (…)` list of every id: past SQLite's 32,766 bound parameters
 * (a year by partner, or by entry, of a large network) the whole report failed with 500.
 */

const clock = testClock('2026-03-07T12:00:00.000Z');
let server: TestServer;
beforeAll(async () => {
  server = await startServer({ now: clock.now, env: { POSTBACK_CONCURRENCY: '0', SQLITE_SYNCHRONOUS: 'normal' } });
});
afterAll(async () => server?.close());

describe('a report over more entities than one statement can bind', () => {
  it('answers every row, with the names of the entities that have one', async () => {
    const advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Acme' })).id;
    const partnerId = (await create(server, '/api/v1/partners', { name: 'Named partner' })).id;
    const offer = await convertingOffer(server, advertiserId, partnerId);
    const template = await clickTid(server, offer.token);
    // The same click from 33,000 more partners (creating that many partners through the API would
    // take minutes); ids without a partner row have no name.
    const partners = 33_000;
    await storeClickCopies(server, template, partners, (i) => ({ partner_id: partnerId + 1 + i }));

    const res = await server.call('GET', '/api/v1/reports?from=2026-03-07&to=2026-03-07&group_by=partner&page_size=2');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.total).toBe(partners + 1);
    expect(res.body.totals.clicks).toBe(partners + 1);
    expect(res.body.rows[0]).toMatchObject({ partner_id: partnerId, partner_name: 'Named partner', clicks: 1 });
    const csv = await server.call('GET', '/api/v1/reports?from=2026-03-07&to=2026-03-07&group_by=partner&format=csv');
    expect(csv.status).toBe(200);
    expect(parseCsv(String(csv.body))).toHaveLength(1 + partners + 1);
  }, 120_000);
});
