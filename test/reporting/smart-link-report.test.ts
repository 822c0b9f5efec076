import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLLUP_CUBES } from '../../src/domain/report.js';
import { rebuildRollups } from '../../src/ingest/sqlite-rollups.js';
import { DATABASE_FILE, openSqliteStore } from '../../src/store/sqlite/index.js';
import type { TestServer } from '../support/api-server.js';
import { expectedReport, parseCsv, readRaw } from './expected.js';
import { seedScenario, type Scenario } from './scenario.js';

/** The smart-link report (SPEC §11) and the rollup rebuild, over the seeded scenario's raw records. */

let server: TestServer;
let keyB: string;
let ids: Scenario['ids'];
let closed = false;

beforeAll(async () => {
  ({ server, keyB, ids } = await seedScenario());
});
afterAll(async () => {
  if (!closed) await server?.close();
});

type Row = Record<string, unknown>;

describe('GET /api/v1/smart-links/:id/report', () => {
  it('gives entry rows, catch-all and no-match counts and skip reasons equal to the raw clicks', async () => {
    const raw = readRaw(server);
    const inRange = (time: string) => time >= '2026-03-07' && time < '2026-03-09';
    for (const id of [ids.main, ids.catchAll, ids.noMatch]) {
      const res = await server.call('GET', `/api/v1/smart-links/${id}/report?from=2026-03-07&to=2026-03-08`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const clicks = raw.clicks.filter((c) => c.smart_link_id === id && inRange(c.time));
      expect(res.body.catch_all_clicks).toBe(clicks.filter((c) => c.outcome === 'catch_all').length);
      expect(res.body.no_match_clicks).toBe(clicks.filter((c) => c.outcome === 'no_match').length);
      const skips = new Map<string, number>();
      for (const c of clicks) for (const s of JSON.parse(c.skipped)) skips.set(`${s.entry_id}:${s.reason}`, (skips.get(`${s.entry_id}:${s.reason}`) ?? 0) + 1);
      expect(Object.fromEntries(res.body.skip_reasons.map((s: Row) => [`${s.entry_id}:${s.reason}`, s.count]))).toEqual(Object.fromEntries(skips));
      const entryRows = expectedReport(raw, { groupBy: ['smart_link', 'entry'], timeZone: 'UTC', fromDay: '2026-03-07', toDay: '2026-03-08' })
        .rows.filter((r) => r.smart_link_id === id && r.entry_id !== null);
      expect(res.body.entries.map((e: Row) => [e.entry_id, e.clicks, e.conversions, e.payout, e.revenue])).toEqual(
        entryRows.map((r) => [r.entry_id, r.clicks, r.conversions, r.payout, r.revenue]),
      );
      expect(res.body.kpi_runs).toEqual([]);
      const linkTotals = expectedReport(raw, { groupBy: ['smart_link'], timeZone: 'UTC', fromDay: '2026-03-07', toDay: '2026-03-08' })
        .rows.find((r) => r.smart_link_id === id);
      expect([res.body.totals.clicks, res.body.totals.conversions, res.body.totals.payout, res.body.totals.revenue])
        .toEqual([linkTotals?.clicks ?? 0, linkTotals?.conversions ?? 0, linkTotals?.payout ?? 0, linkTotals?.revenue ?? 0]);
      const fallbackClicks = clicks.filter((c) => c.outcome === 'catch_all' || c.outcome === 'fail_traffic').length;
      expect(res.body.fallbacks.reduce((sum: number, r: Row) => sum + Number(r.clicks), 0)).toBe(fallbackClicks);
    }
    const catchAll = await server.call('GET', `/api/v1/smart-links/${ids.catchAll}/report?from=2026-03-07&to=2026-03-08`);
    expect(catchAll.body.catch_all_clicks).toBeGreaterThan(0);
    expect(catchAll.body.skip_reasons.length).toBeGreaterThan(0);
  });

  it('a partner key gets its own traffic without revenue; CSV matches the entry rows', async () => {
    const res = await server.call('GET', `/api/v1/smart-links/${ids.main}/report?from=2026-03-07&to=2026-03-08`, undefined, { key: keyB });
    expect(res.status).toBe(200);
    const own = readRaw(server).clicks.filter((c) => c.smart_link_id === ids.main && c.partner_id === ids.partnerB && c.time < '2026-03-09');
    expect(res.body.entries[0].clicks).toBe(own.length);
    expect(res.body.entries[0]).not.toHaveProperty('revenue');
    const csv = await server.call('GET', `/api/v1/smart-links/${ids.main}/report?from=2026-03-07&to=2026-03-08&format=csv`, undefined, { key: keyB });
    const [header, ...lines] = parseCsv(String(csv.body));
    expect(header).toEqual(['outcome', ...Object.keys(res.body.entries[0])]);
    const cell = (v: unknown) => (v === null || v === undefined ? '' : String(v));
    expect(lines).toEqual([
      ...res.body.entries.map((r: Row) => ['routed', ...Object.values(r).map(cell)]),
      ...res.body.fallbacks.map((r: Row) => header!.map((c) => cell(r[c]))),
    ]);
  });
});

describe('which smart links a partner key may report on', () => {
  it('a link hidden from partners answers 404 until the partner runs it (holds a tracking link); a deleted one 404 again', async () => {
    const hidden = await server.call('POST', '/api/v1/smart-links', { name: 'Hidden link', visible_to_partners: false, entries: [{ offer_id: ids.offer }] });
    expect(hidden.status).toBe(201);
    const report = () => server.call('GET', `/api/v1/smart-links/${hidden.body.id}/report?from=2026-03-07&to=2026-03-08`, undefined, { key: keyB });
    const refused = await report();
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe('not_found');
    expect((await server.call('POST', `/api/v1/smart-links/${hidden.body.id}/tracking-links`, { partner_id: ids.partnerB })).status).toBe(201);
    expect((await report()).status).toBe(200);
    expect((await server.call('DELETE', `/api/v1/smart-links/${hidden.body.id}`)).status).toBe(204);
    expect((await report()).status).toBe(404);
  });
});

describe('rebuild', () => {
  it('recomputing every cube from raw records (rebuild, or the migrations on an upgraded database) reproduces them exactly', async () => {
    await server.close();
    closed = true;
    const dumpAll = (db: Database.Database) => Object.fromEntries(ROLLUP_CUBES.map((cube) => {
      const keys = ['bucket', ...cube.dimensions].join(', ');
      return [cube.table, db.prepare(`select * from ${cube.table} order by ${keys}`).all()];
    }));
    let before: Record<string, unknown[]> = {};
    const db = new Database(path.join(server.dataDir, DATABASE_FILE));
    try {
      before = dumpAll(db);
      for (const cube of ROLLUP_CUBES) expect(before[cube.table]?.length, cube.table).toBeGreaterThan(0);
      expect(rebuildRollups(db).rows).toEqual(Object.fromEntries(ROLLUP_CUBES.map((cube) => [cube.table, before[cube.table]?.length])));
      expect(dumpAll(db)).toEqual(before);
      // Upgrading a database that already holds clicks: migrations 0005 and 0006 backfill the same cubes.
      for (const cube of ROLLUP_CUBES) db.exec(`drop table ${cube.table}`);
      db.exec("delete from kysely_migration where name in ('0005_report_rollups', '0006_report_cubes')");
    } finally {
      db.close();
    }
    const store = await openSqliteStore({ dataDir: server.dataDir, synchronous: 'normal' });
    await store.close();
    const reopened = new Database(path.join(server.dataDir, DATABASE_FILE), { readonly: true });
    try {
      expect(dumpAll(reopened)).toEqual(before);
    } finally {
      reopened.close();
    }
  });
});
