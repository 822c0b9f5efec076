import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/api-server.js';
import { clickOn } from '../support/clicks.js';
import { testClock } from '../support/clock.js';
import { convertingOffer, type ConvertingOffer } from '../support/conversions.js';
import { create } from '../support/fixtures.js';
import { parseCsv } from './expected.js';

/** SPEC §11: CSV export of the report endpoint, and `hour` rows in a zone that leaves summer time. */

const clock = testClock('2026-10-24T23:30:00.000Z');
let server: TestServer;
let offer: ConvertingOffer;

beforeAll(async () => {
  server = await startServer({ now: clock.now, env: { POSTBACK_CONCURRENCY: '0', SQLITE_SYNCHRONOUS: 'normal' } });
  const advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Acme' })).id;
  const partnerId = (await create(server, '/api/v1/partners', { name: 'Partner' })).id;
  offer = await convertingOffer(server, advertiserId, partnerId);
});
afterAll(async () => server?.close());

describe('report CSV export', () => {
  it('holds every row of the report, not only its first page, unless a page is asked for', async () => {
    clock.set('2026-10-20T12:00:00.000Z');
    for (let i = 0; i < 1010; i++) expect((await clickOn(server.url, offer.token, { sub1: `creative-${i}` })).status).toBe(302);
    const json = await server.call('GET', '/api/v1/reports?from=2026-10-20&to=2026-10-20&group_by=sub1');
    expect(json.body.total).toBe(1010);
    const csv = await server.call('GET', '/api/v1/reports?from=2026-10-20&to=2026-10-20&group_by=sub1', undefined, { headers: { accept: 'text/csv' } });
    const [, ...lines] = parseCsv(String(csv.body));
    expect(lines).toHaveLength(1010);
    const paged = await server.call('GET', '/api/v1/reports?from=2026-10-20&to=2026-10-20&group_by=sub1&page=2&page_size=1000', undefined, { headers: { accept: 'text/csv' } });
    expect(parseCsv(String(paged.body))).toHaveLength(1 + 10);
  });
});

describe('report format from the Accept header', () => {
  it.each([
    ['text/csv', 'csv'],
    ['text/csv; charset=utf-8', 'csv'],
    ['text/csv;charset=utf-8;q=0.9, application/json;q=0.5', 'csv'],
    ['text/csv;foo="a,b";q=0.1, application/json', 'json'],
    ['text/csv;q=0.9, application/json;q=0.5', 'csv'],
    ['application/json, text/csv;q=0.1', 'json'],
    ['text/csv;q=0, */*', 'json'],
    ['*/*', 'json'],
    ['text/html', 'json'],
  ])('Accept: %s answers %s', async (accept, format) => {
    const res = await server.call('GET', '/api/v1/reports?from=2026-10-20&to=2026-10-20', undefined, { headers: { accept } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(format === 'csv' ? /^text\/csv/ : /^application\/json/);
  });
});

describe('hour rows across the end of summer time', () => {
  it('come in time order in Berlin: 02:00+02:00 (CEST) before the repeated 02:00+01:00 (CET)', async () => {
    for (const time of ['2026-10-24T23:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z', '2026-10-25T02:30:00.000Z']) {
      clock.set(time);
      expect((await clickOn(server.url, offer.token)).status).toBe(302);
    }
    const res = await server.call('GET', '/api/v1/reports?from=2026-10-25&to=2026-10-25&timezone=Europe/Berlin&group_by=hour');
    expect(res.status).toBe(200);
    expect(res.body.rows.map((r: { hour: string }) => r.hour)).toEqual([
      '2026-10-25T01:00:00+02:00', '2026-10-25T02:00:00+02:00', '2026-10-25T02:00:00+01:00', '2026-10-25T03:00:00+01:00',
    ]);
  });
});

describe('a range given by one bound only', () => {
  it('names the default that stood in for the other when the two do not make a range', async () => {
    clock.set('2026-10-20T12:00:00.000Z');
    const past = await server.call('GET', '/api/v1/reports?to=2026-10-01');
    expect(past.status).toBe(400);
    expect(past.body.error.details).toEqual([{ path: 'query.from', message: 'is needed: without it the report starts today (2026-10-20), after to' }]);
    const future = await server.call('GET', '/api/v1/reports?from=2026-11-01');
    expect(future.body.error.details).toEqual([{ path: 'query.to', message: 'is needed: without it the report ends with today (2026-10-20), before from' }]);
    expect((await server.call('GET', '/api/v1/reports?from=2026-10-01')).status).toBe(200);
    const both = await server.call('GET', '/api/v1/reports?from=2026-10-05&to=2026-10-01');
    expect(both.status).toBe(400);
    expect(both.body.error.details).toEqual([{ path: 'query.to', message: 'must be after from' }]);
    clock.set('2026-03-05T12:00:00.000Z');
    const early = await server.call('GET', '/api/v1/reports?to=2026-03-01');
    expect(early.body.error.details).toEqual([{ path: 'query.from', message: 'is needed: without it the report starts today (2026-03-05), after to' }]);
  });
});

describe('the 400-day limit', () => {
  it('counts local days: 400 of them in New York are accepted even when they hold one more end of summer time than start', async () => {
    // 2025-09-28 … 2026-11-01 holds the ends of summer time of 2025 and 2026 and one start: 400 days and an hour.
    const longest = 'from=2025-09-28&to=2026-11-01&timezone=America/New_York';
    const res = await server.call('GET', `/api/v1/reports?${longest}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect((await server.call('GET', `/api/v1/smart-links/${offer.smartLinkId}/report?${longest}`)).status).toBe(200);
    const tooLong = await server.call('GET', '/api/v1/reports?from=2025-09-28&to=2026-11-02&timezone=America/New_York');
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.details).toEqual([{ path: 'query.to', message: 'the range may span at most 400 days' }]);
  });

  it('an instant range of exactly 400 days is accepted whatever the clocks of the time zone did in it', async () => {
    // 2025-03-01 is winter time in New York, 2026-04-05 summer time: 400 days to the millisecond.
    const res = await server.call('GET', '/api/v1/reports?from=2025-03-01T00:00:00Z&to=2026-04-05T00:00:00Z&timezone=America/New_York');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect((await server.call('GET', '/api/v1/reports?from=2025-03-01T00:00:00Z&to=2026-04-05T00:15:00Z&timezone=America/New_York')).status).toBe(400);
  });
});
