import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/api-server.js';
import { testClock } from '../support/clock.js';
import { clickTid, convertingOffer, storeClickCopies } from '../support/conversions.js';
import { create } from '../support/fixtures.js';

/**
 * SPEC §11: a report with many rows. Partners commonly pass their own click id in sub1, so a week
 * grouped by sub1 (or a year by hour and offer) has a row per click: past ~125,000 groups from one
 * rollup query the groups were appended with `push(...rows)`, which overflowed the call stack (500).
 */

const clock = testClock('2026-03-07T12:00:00.000Z');
let server: TestServer;
beforeAll(async () => {
  server = await startServer({ now: clock.now, env: { POSTBACK_CONCURRENCY: '0', SQLITE_SYNCHRONOUS: 'normal' } });
});
afterAll(async () => server?.close());

describe('a report with more rows than a call may take arguments', () => {
  it('answers its first page and its totals', async () => {
    const advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Acme' })).id;
    const partnerId = (await create(server, '/api/v1/partners', { name: 'Partner' })).id;
    const offer = await convertingOffer(server, advertiserId, partnerId);
    const template = await clickTid(server, offer.token, { sub1: 'first' });
    // Copies of the click, each with its own sub1.
    const copies = 150_000;
    await storeClickCopies(server, template, copies, (i) => ({ sub1: `click-${String(i).padStart(6, '0')}` }));

    const res = await server.call('GET', '/api/v1/reports?from=2026-03-07&to=2026-03-07&group_by=sub1&page_size=2');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.total).toBe(copies + 1);
    expect(res.body.totals.clicks).toBe(copies + 1);
    expect(res.body.rows.map((r: { sub1: string }) => r.sub1)).toEqual(['click-000000', 'click-000001']);
  }, 120_000);
});
