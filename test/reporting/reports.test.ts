import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLLUP_CUBES, type RollupCube, type RollupDimension } from '../../src/domain/report.js';
import type { ReportReader } from '../../src/ports/report-reader.js';
import { DIMENSIONS } from '../../src/reporting/dimensions.js';
import { parseReportRequest, type Viewer } from '../../src/reporting/report-request.js';
import { runReport } from '../../src/reporting/run-report.js';
import type { TestServer } from '../support/api-server.js';
import { countStoredClicks } from '../support/clicks.js';
import { expectedReport, parseCsv, readRaw } from './expected.js';
import { seedScenario, ZONES, type Scenario } from './scenario.js';

/**
 * `GET /api/v1/reports` (SPEC §11): every figure equals a count over the raw clicks and conversions,
 * in UTC, New York (a DST change inside the range) and Kathmandu (+5:45).
 */

let server: TestServer;
let keyB: string;
let ids: Scenario['ids'];

beforeAll(async () => {
  ({ server, keyB, ids } = await seedScenario());
});
afterAll(async () => server?.close());

type Row = Record<string, unknown>;
const keyOf = (row: Row, keys: string[]) => JSON.stringify(keys.map((k) => row[k] ?? null));
const withoutNames = (row: Row) => Object.fromEntries(Object.entries(row).filter(([k]) => !k.endsWith('_name')));

async function report(query: string, key?: string) {
  return server.call('GET', `/api/v1/reports?${query}`, undefined, key === undefined ? {} : { key });
}

describe('GET /api/v1/reports', () => {
  const groupings = [['day'], ['day', 'partner'], ['smart_link', 'entry', 'outcome'], ['hour', 'offer'], ['sub1', 'reason', 'device_type'], []];
  for (const zone of ZONES) {
    it(`every column of several groupings equals the raw records, in ${zone}`, async () => {
      const raw = readRaw(server);
      for (const groupBy of groupings) {
        const res = await report(`from=2026-03-07&to=2026-03-08&timezone=${encodeURIComponent(zone)}&group_by=${groupBy.join(',')}&page_size=10000`);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        const expected = expectedReport(raw, { groupBy, timeZone: zone, fromDay: '2026-03-07', toDay: '2026-03-08' });
        const keys = Object.keys(expected.rows[0] ?? {}).filter((k) => !/clicks|conversions|events|cvr|evr|revenue|payout|profit|epc|rpc/.test(k));
        const sort = (rows: Row[]) => [...rows].sort((a, b) => (keyOf(a, keys) < keyOf(b, keys) ? -1 : 1));
        expect(sort(res.body.rows.map(withoutNames)), `${zone} ${groupBy.join(',')}`).toEqual(sort(expected.rows));
        expect(res.body.totals).toEqual(expected.totals);
        expect(res.body.total).toBe(expected.rows.length);
      }
    });
  }

  it('totals equal the sum of the rows, and entity dimensions carry names', async () => {
    const res = await report('from=2026-03-07&to=2026-03-09&group_by=smart_link,offer,partner');
    const sum = (column: string) => res.body.rows.reduce((s: number, r: Row) => s + Number(r[column]), 0);
    for (const column of ['clicks', 'unique_clicks', 'conversions', 'events']) expect(sum(column)).toBe(res.body.totals[column]);
    expect(sum('revenue')).toBeCloseTo(res.body.totals.revenue, 6);
    const main = res.body.rows.find((r: Row) => r.smart_link_id === ids.main && r.partner_id === ids.partnerA);
    expect(main).toMatchObject({ smart_link_name: 'Main link', offer_name: 'Main offer', partner_name: 'Partner A' });
    expect(res.body.totals.duplicate_clicks).toBe(3);
  });

  it('a partner key sees only its own traffic, without revenue, profit, rpc or advertiser', async () => {
    const raw = readRaw(server);
    const res = await report('from=2026-03-07&to=2026-03-08&group_by=day,smart_link', keyB);
    expect(res.status).toBe(200);
    const expected = expectedReport(raw, { groupBy: ['day', 'smart_link'], timeZone: 'UTC', fromDay: '2026-03-07', toDay: '2026-03-08', partnerId: ids.partnerB });
    expect(res.body.totals.clicks).toBe(expected.totals.clicks);
    expect(res.body.totals.payout).toBe(expected.totals.payout);
    for (const row of [...res.body.rows, res.body.totals]) for (const hidden of ['revenue', 'profit', 'rpc']) expect(row).not.toHaveProperty(hidden);
    expect((await report('group_by=advertiser', keyB)).status).toBe(400);
    expect((await report('sort=revenue', keyB)).status).toBe(400);
    const other = await report(`from=2026-03-07&to=2026-03-08&filter[partner]=${ids.partnerA}`, keyB);
    expect(other.body.rows).toEqual([]);
  });

  it('filters, sorts and pages', async () => {
    const all = await report(`from=2026-03-07&to=2026-03-08&group_by=sub1&filter[smart_link]=${ids.main}&sort=clicks&order=desc`);
    expect(all.body.rows.map((r: Row) => r.sub1).sort()).toEqual(['a-main', 'b-main']);
    const page = await report('from=2026-03-07&to=2026-03-08&group_by=sub1&sort=sub1&page=2&page_size=1');
    expect(page.body).toMatchObject({ page: 2, page_size: 1, total: 4 });
    expect(page.body.rows[0].sub1).toBe('a-catch');
  });

  it('country, device type and os filters match in any case, as targeting does; subs match exactly', async () => {
    const range = 'from=2026-03-07&to=2026-03-08';
    const exact = await report(`${range}&filter[os]=iOS&filter[device_type]=mobile&filter[browser]=Safari`);
    expect(exact.body.totals.clicks).toBeGreaterThan(0);
    expect((await report(`${range}&filter[os]=ios&filter[device_type]=MOBILE&filter[browser]=safari`)).body.totals).toEqual(exact.body.totals);
    // The seeded clicks come from loopback, without a country: the request is where `us` becomes `US`.
    const request = parseReportRequest({ 'filter[country]': 'us', 'filter[sub2]': 'X', 'filter[browser]': 'samsung internet' }, { admin: true }, Date.parse('2026-03-09T12:00:00Z'));
    expect(request.filters).toEqual([{ column: 'country', value: 'US' }, { column: 'sub2', value: 'X' }, { column: 'browser', value: 'Samsung Internet' }]);
    expect((await report(`${range}&filter[sub1]=A-MAIN`)).body.totals.clicks).toBe(0);
  });

  it('CSV holds the same rows and columns as JSON, quoted, with formulas neutralised', async () => {
    const query = 'from=2026-03-07&to=2026-03-08&timezone=Asia/Kathmandu&group_by=day,sub1,partner';
    const json = await report(query);
    const res = await server.call('GET', `/api/v1/reports?${query}`, undefined, { headers: { accept: 'text/csv' } });
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const [header, ...lines] = parseCsv(String(res.body));
    expect(header).toEqual(Object.keys(json.body.rows[0]));
    const neutral = (v: unknown) => (v === null ? '' : typeof v === 'string' && /^[=+\-@]/.test(v) ? `'${v}` : String(v));
    expect(lines).toEqual(json.body.rows.map((r: Row) => Object.values(r).map(neutral)));
    expect(lines.some((l) => l.includes(`'=cmd|"x, y"`))).toBe(true);
    expect((await report(`${query}&format=csv`)).body).toBe(res.body);
  });

  it('refuses unknown names and SQL fragments with validation_failed, and runs nothing', async () => {
    const before = countStoredClicks(server.dataDir);
    const bad = [
      'group_by=offer;drop table clicks', 'group_by=offer,1=1', 'group_by=bucket', 'group_by=day,day', 'sort=clicks;--',
      'sort=(select 1)', 'order=desc;', 'filter[country) or (1=1]=x', 'filter[offer]=1 or 1=1', 'filter[day]=2026-03-07',
      'filter[nonsense]=1', 'timezone=UTC%27--', 'timezone=Mars/Olympus', 'from=yesterday', 'from=2026-02-30',
      'from=2026-03-07T00:07:00Z', 'from=2026-03-08&to=2026-03-07', 'colour=red', 'page_size=0',
      // An own key only: these found Object.prototype's members and failed with 500.
      'filter[constructor]=x', 'filter[__proto__]=x', 'filter[toString]=x',
      // A misspelt outcome found no clicks and answered an empty 200, as if there had been none.
      'filter[outcome]=catchall',
      // Without an offset the server's own zone would be used, not `timezone`.
      'from=2026-03-07T00:00&to=2026-03-08T00:00&timezone=America/New_York',
    ];
    for (const query of bad) {
      const res = await report(query);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code, query).toBe('validation_failed');
    }
    expect(countStoredClicks(server.dataDir)).toBe(before);
    expect((await report('filter[outcome]=catchall')).body.error.details).toEqual([
      { path: 'query.filter[outcome]', message: 'must be one of: routed, catch_all, fail_traffic, no_match, invalid' },
    ]);
    expect((await report('from=2026-03-07&to=2026-03-08&filter[outcome]=routed')).status).toBe(200);
  });

  it('names a bad parameter query.<name>, as every other endpoint and its own schema checks do, not querystring.<name>', async () => {
    // The schema's own check (a page size of 0) and the report's checks answered two spellings.
    const paths = async (query: string) => ((await report(query)).body.error.details as { path: string }[]).map((d) => d.path);
    expect(await paths('page_size=0')).toEqual(['query.page_size']);
    expect(await paths('from=2026-02-30')).toEqual(['query.from']);
    expect(await paths('group_by=colour')).toEqual(['query.group_by']);
    expect(await paths('sort=colour')).toEqual(['query.sort']);
    expect(await paths('timezone=Mars/Olympus')).toEqual(['query.timezone']);
    expect(await paths('filter[colour]=red')).toEqual(['query.filter[colour]']);
    expect(await paths('from=2026-03-08&to=2026-03-07')).toEqual(['query.to']);
    const conversions = await server.call('GET', '/api/v1/conversions?from=2024-02-30T00:00:00Z');
    expect(conversions.body.error.details.map((d: { path: string }) => d.path)).toEqual(['query.from']);
  });

  it('date-time bounds select whole quarter-hour buckets, to exclusive', async () => {
    const res = await report('from=2026-03-07T18:15:00Z&to=2026-03-07T18:30:00%2B00:00');
    const raw = readRaw(server);
    const inside = raw.clicks.filter((c) => c.time >= '2026-03-07T18:15' && c.time < '2026-03-07T18:30');
    expect(inside.length).toBeGreaterThan(0);
    expect(res.body.totals.clicks).toBe(inside.length);
  });

  it('without from/to, covers today in the given time zone', async () => {
    const today = await report('timezone=America/New_York');
    const expected = expectedReport(readRaw(server), { groupBy: [], timeZone: 'America/New_York', fromDay: '2026-03-09', toDay: '2026-03-09' });
    expect(today.body.totals).toEqual(expected.totals);
  });
});


/**
 * The rollup cubes (domain/report.ts) and the planner's choice among them: the same report read from
 * each cube that can answer it equals the raw records, in every zone, and filters on dimensions only
 * the quarter-hour cube holds still give exact figures.
 */
describe('rollup cubes', () => {
  const fine = ROLLUP_CUBES.find((c) => c.table === 'report_rollups');
  /** Runs a report through the server's report reader, over only `cubes`, and says which tables it read. */
  async function reportFrom(query: Record<string, string>, cubes: readonly RollupCube[], viewer: Viewer = { admin: true }) {
    const tables = new Set<string>();
    const reader = server.store.reports;
    const recording: ReportReader = { ...reader, rollups: (q) => (tables.add(q.table), reader.rollups(q)) };
    const request = parseReportRequest({ page_size: 10000, ...query }, viewer, Date.parse('2026-03-09T12:00:00Z'));
    const result = await runReport(recording, request, cubes);
    return { rows: result.rows.map(withoutNames), totals: result.totals, tables: [...tables].sort() };
  }
  /**
   * Whether a cube can answer part of a 2-day report: day buckets only whole UTC days inside one
   * period (no time grouping, or local days in UTC); hour buckets anything but Kathmandu's local
   * hours, which start at :15 past the UTC hour (+5:45).
   */
  const usable = (cube: RollupCube, zone: string, groupBy: string[]) => {
    const time = groupBy.includes('hour') ? 'hour' : groupBy.includes('day') ? 'day' : 'none';
    if (cube.grain === 'quarter' || time === 'none') return true;
    if (cube.grain === 'day') return time === 'day' && zone === 'UTC';
    return !(time === 'hour' && zone === 'Asia/Kathmandu');
  };
  const sorted = (rows: Row[]) => [...rows].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

  for (const cube of ROLLUP_CUBES) {
    it(`${cube.table}: every grouping it holds equals the raw records, in every zone`, async () => {
      const raw = readRaw(server);
      const names = Object.entries(DIMENSIONS).filter(([, d]) => d.column !== 'bucket' && cube.dimensions.includes(d.column as RollupDimension)).map(([n]) => n);
      const groupings = [names, ['day', ...names.slice(0, 2)], ['hour', names[names.length - 1] ?? 'offer']];
      for (const zone of ZONES) {
        for (const groupBy of groupings) {
          const answer = await reportFrom({ from: '2026-03-07', to: '2026-03-08', timezone: zone, group_by: groupBy.join(',') }, fine && cube !== fine ? [cube, fine] : [cube]);
          const expected = expectedReport(raw, { groupBy, timeZone: zone, fromDay: '2026-03-07', toDay: '2026-03-08' });
          expect(sorted(answer.rows), `${cube.table} ${zone} ${groupBy.join(',')}`).toEqual(sorted(expected.rows));
          expect(answer.totals).toEqual(expected.totals);
          if (usable(cube, zone, groupBy)) expect(answer.tables, `${zone} ${groupBy.join(',')}`).toContain(cube.table);
        }
      }
    });
  }

  it('the planner picks the smallest cube holding every grouped and filtered dimension', async () => {
    const day = { from: '2026-03-07', to: '2026-03-08' };
    const pick = async (query: Record<string, string>, viewer?: Viewer) => (await reportFrom({ ...day, ...query }, ROLLUP_CUBES, viewer)).tables;
    expect(await pick({ group_by: 'day,offer' })).toEqual(['report_links_day']);
    expect(await pick({ group_by: 'smart_link,entry,country' })).toEqual(['report_countries_day']);
    expect(await pick({ group_by: 'partner,reason' })).toEqual(['report_partner_links_day']);
    expect(await pick({ group_by: 'offer' }, { admin: false, partnerId: ids.partnerB })).toEqual(['report_partner_links_day']);
    expect(await pick({ group_by: 'country' }, { admin: false, partnerId: ids.partnerB })).toEqual(['report_rollups']);
    expect(await pick({ group_by: 'offer', 'filter[sub1]': 'a-main' })).toEqual(['report_rollups']);
    expect(await pick({ group_by: 'day,offer', timezone: 'America/New_York' })).toEqual(['report_links_hour']);
    expect(await pick({ group_by: 'day,offer', timezone: 'Asia/Kathmandu' })).toEqual(['report_links_hour', 'report_links_quarter']);
    expect(await pick({ group_by: 'day,sub1', timezone: 'Asia/Kathmandu' })).toEqual(['report_rollups']);
  });

  it('filters on dimensions only the quarter-hour cube holds, and a partner by country, are exact', async () => {
    const raw = readRaw(server);
    for (const zone of ZONES) {
      const bySub = await report(`from=2026-03-07&to=2026-03-08&timezone=${encodeURIComponent(zone)}&group_by=day,offer&filter[sub1]=a-main&filter[device_type]=mobile`);
      expect(bySub.status).toBe(200);
      const expected = expectedReport(raw, { groupBy: ['day', 'offer'], timeZone: zone, fromDay: '2026-03-07', toDay: '2026-03-08', where: (c) => c.sub1 === 'a-main' && c.device_type === 'mobile' });
      expect(expected.rows.length).toBeGreaterThan(0);
      expect(sorted(bySub.body.rows.map(withoutNames))).toEqual(sorted(expected.rows));
      const partnerCountry = await report(`from=2026-03-07&to=2026-03-08&timezone=${encodeURIComponent(zone)}&group_by=hour,country`, keyB);
      const own = expectedReport(raw, { groupBy: ['hour', 'country'], timeZone: zone, fromDay: '2026-03-07', toDay: '2026-03-08', partnerId: ids.partnerB });
      const visible = (row: Row) => Object.fromEntries(Object.entries(row).filter(([k]) => !['revenue', 'profit', 'rpc'].includes(k)));
      expect(sorted(partnerCountry.body.rows)).toEqual(sorted(own.rows.map(visible)));
    }
  });
});
