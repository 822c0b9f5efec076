/**
 * Report latency over rollups (SPEC §11): bulk-loads N clicks (and ~3% conversions) over 30 days into
 * a fresh database — raw rows and rollups in the same large transactions, as the writer would — then
 * times a 30-day report by day × offer and one by smart_link × entry × country through the same code
 * the API runs (p50 of 5), plus the same in New York and Kathmandu and a partner key's report.
 * Baseline: the day × offer click count scanned from raw clicks, once. `--clicks N` (default 10M),
 * `--runs N`; KEEP_BENCH_DB=1 keeps the database for inspection, REUSE_BENCH_DB=<its folder> times
 * the reports on it again without loading. The data is uniform and independent over every dimension
 * (200 sub1 values): the worst case for rollups, which compress only where values repeat.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ROLLUP_CUBES } from '../src/domain/report.js';
import { prepareRollups } from '../src/ingest/sqlite-rollups.js';
import { parseReportRequest, type Viewer } from '../src/reporting/report-request.js';
import { runReport } from '../src/reporting/run-report.js';
import { CLICK_COLUMNS, type ClickRow } from '../src/store/sql/click-row.js';
import { CONVERSION_COLUMNS, type NewConversionRow } from '../src/store/sql/conversion-row.js';
import { DATABASE_FILE, openSqliteStore } from '../src/store/sqlite/index.js';
import { checkOptions, inTempDir, median, option, round } from './support.js';

const DAY_MS = 86_400_000;
const START_MS = Date.parse('2026-01-01T00:00:00.000Z');
const COUNTRIES = ['US', 'DE', 'FR', 'GB', 'IN', 'BR', 'NP', 'JP', 'CA', 'AU', 'ES', 'IT', 'MX', 'NL', 'PL', 'SE', 'TR', 'ZA', 'KR', 'AR'];
const DEVICES = ['mobile', 'desktop', 'tablet', 'other'];
const OUTCOMES = ['routed', 'routed', 'routed', 'routed', 'routed', 'routed', 'catch_all', 'no_match'];

/** A deterministic pseudo-random sequence, so runs load the same data. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function clickRow(i: number, random: () => number, clicks: number): ClickRow {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)] as T;
  const link = 1 + Math.floor(random() * 20);
  const outcome = pick(OUTCOMES);
  const routed = outcome !== 'no_match';
  const offer = 1 + ((link * 7 + Math.floor(random() * 5)) % 50);
  return {
    transaction_id: i.toString(16).padStart(32, '0'), time: new Date(START_MS + Math.floor((i / clicks) * 30 * DAY_MS)).toISOString(),
    smart_link_id: link, partner_id: 1 + Math.floor(random() * 10), tracking_token: `t${link}`,
    entry_id: outcome === 'routed' ? link * 10 + (offer % 5) : null, offer_id: routed ? offer : null, offer_url_id: null,
    advertiser_id: routed ? 1 + (offer % 8) : null, outcome, reason: outcome === 'no_match' ? 20 : null, skipped: '[]',
    is_unique: random() < 0.8 ? 1 : 0, ip: null, user_agent: null, os: pick(['iOS', 'Android', 'Windows', 'macOS', 'Linux']),
    os_version: null, device_type: pick(DEVICES), browser: pick(['Safari', 'Chrome', 'Firefox', 'Edge', 'Samsung']), brand: null,
    language: null, country: pick(COUNTRIES), region: null, city: null, sub1: `s${Math.floor(random() * 200)}`, sub2: null, sub3: null,
    sub4: null, sub5: null, source_id: null, destination: null, kpi_run_id: null, idfa: null, gaid: null, deep_link: null, visitor_id: null,
  };
}

function conversionRow(click: ClickRow, event: boolean): NewConversionRow {
  return {
    transaction_id: click.transaction_id, event_key: event ? 'deposit' : '', order_key: '', order_id: null,
    time: new Date(Date.parse(click.time) + 3_600_000).toISOString(), click_time: click.time, offer_id: click.offer_id ?? 0,
    partner_id: click.partner_id, advertiser_id: click.advertiser_id ?? 0, smart_link_id: click.smart_link_id, entry_id: click.entry_id,
    offer_url_id: null, method: 'server_postback', status: 'approved', status_reason: null, amount_micros: null,
    payout_micros: 2_000_000, revenue_micros: 3_500_000, adv1: null, adv2: null, adv3: null, adv4: null, adv5: null,
  };
}

async function load(file: string, clicks: number): Promise<void> {
  const db = new Database(file);
  // A throwaway benchmark database: durability of the load itself does not matter.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const insertClick = db.prepare(`insert into clicks (${CLICK_COLUMNS.join(', ')}) values (${CLICK_COLUMNS.map((c) => `@${c}`).join(', ')})`);
  const insertConversion = db.prepare(`insert into conversions (${CONVERSION_COLUMNS.join(', ')}) values (${CONVERSION_COLUMNS.map((c) => `@${c}`).join(', ')})`);
  const rollups = prepareRollups(db);
  const random = rng(42);
  const chunk = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      // Rollups are written per 512 clicks, as the writer does with full batches (CLICK_BATCH_MAX);
      // the cubes' contents do not depend on it, only the load time does.
      if ((i - from) % 512 === 0) rollups.flush();
      const row = clickRow(i, random, clicks);
      insertClick.run(row);
      rollups.addClick(row);
      if (row.offer_id !== null && random() < 0.03) {
        for (const event of random() < 0.3 ? [false, true] : [false]) {
          const conversion = conversionRow(row, event);
          insertConversion.run(conversion);
          rollups.addConversion(conversion);
        }
      }
    }
    rollups.flush();
  });
  for (let from = 0; from < clicks; from += 50_000) {
    chunk(from, Math.min(clicks, from + 50_000));
    // Between transactions, let a Ctrl-C in: a 10-million-click load takes minutes.
    await new Promise((resolve) => setImmediate(resolve));
  }
  db.close();
}

function countClicks(file: string): number {
  const db = new Database(file, { readonly: true });
  const { n } = db.prepare('select count(*) as n from clicks').get() as { n: number };
  db.close();
  return n;
}

function countRows(file: string): Record<string, number> {
  const db = new Database(file, { readonly: true });
  const rows = Object.fromEntries(ROLLUP_CUBES.map((cube) => [cube.table, (db.prepare(`select count(*) as n from ${cube.table}`).get() as { n: number }).n]));
  db.close();
  return rows;
}

export async function main(args: string[]): Promise<void> {
  checkOptions('reports', args, { values: ['clicks', 'runs'] });
  const reuse = process.env.REUSE_BENCH_DB;
  // A reused database holds the clicks it was loaded with, whatever --clicks says now.
  const clicks = reuse === undefined ? option(args, 'clicks', 10_000_000, 1) : countClicks(path.join(reuse, DATABASE_FILE));
  const runs = option(args, 'runs', 5, 1);
  // REUSE_BENCH_DB=<dir kept by KEEP_BENCH_DB> times the reports again without reloading.
  const kept = Boolean(process.env.KEEP_BENCH_DB) || reuse !== undefined;
  await inTempDir(reuse ?? fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-bench-reports-')), async (dataDir) => {
    let loadMs = 0;
    if (!reuse) {
      await (await openSqliteStore({ dataDir, synchronous: 'normal' })).close();
      const loadStartedMs = performance.now();
      await load(path.join(dataDir, DATABASE_FILE), clicks);
      loadMs = performance.now() - loadStartedMs;
    }
    const rollupRows = countRows(path.join(dataDir, DATABASE_FILE));
    const store = await openSqliteStore({ dataDir, synchronous: 'normal' });
    const time = async (groupBy: string, timeZone = 'UTC', viewer: Viewer = { admin: true }) => {
      const request = parseReportRequest({ from: '2026-01-01', to: '2026-01-30', timezone: timeZone, group_by: groupBy, page_size: 10_000 }, viewer, START_MS);
      const samples: number[] = [];
      let rows = 0;
      for (let i = 0; i < runs; i++) {
        const startedMs = performance.now();
        rows = (await runReport(store.reports, request)).total;
        samples.push(performance.now() - startedMs);
      }
      process.stdout.write(`${groupBy} in ${timeZone}${viewer.admin ? '' : ` (partner ${viewer.partnerId})`}: p50 ${round(median(samples), 1)} ms, ${rows} rows\n`);
      return { p50Ms: round(median(samples), 1), rows };
    };
    // The goal's two reports (UTC, admin), then the same in a whole-hour zone and a +5:45 zone (hour and
    // quarter-hour buckets at the day edges), and a partner key's report (the partner cubes).
    const dayOffer = await time('day,offer');
    const linkEntryCountry = await time('smart_link,entry,country');
    const dayOfferNewYork = await time('day,offer', 'America/New_York');
    const linkEntryCountryNewYork = await time('smart_link,entry,country', 'America/New_York');
    const dayOfferKathmandu = await time('day,offer', 'Asia/Kathmandu');
    const partnerDayOffer = await time('day,offer', 'America/New_York', { admin: false, partnerId: 3 });
    await store.close();
    const raw = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true });
    const scan = raw.prepare(`select substr(time, 1, 10) as day, offer_id, count(*) as n from clicks
      where time >= '2026-01-01' and time < '2026-01-31' group by 1, 2`);
    const rawSamples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const rawStartedMs = performance.now();
      scan.all();
      rawSamples.push(performance.now() - rawStartedMs);
    }
    const rawMs = median(rawSamples);
    raw.close();
    process.stdout.write(`${reuse ? 'reused' : `loaded ${clicks} clicks in ${round(loadMs / 1000, 1)} s;`} rollup rows per cube:\n`);
    for (const [table, rows] of Object.entries(rollupRows)) process.stdout.write(`  ${table} ${rows}\n`);
    if (process.env.KEEP_BENCH_DB && !reuse) process.stdout.write(`kept the database in ${dataDir}: time it again with REUSE_BENCH_DB=${dataDir}\n`);
    process.stdout.write(
      `BENCH reports clicks=${clicks} load_s=${round(loadMs / 1000, 1)} fine_rollup_rows=${rollupRows.report_rollups} day_offer_p50_ms=${dayOffer.p50Ms} day_offer_rows=${dayOffer.rows} ` +
        `link_entry_country_p50_ms=${linkEntryCountry.p50Ms} link_entry_country_rows=${linkEntryCountry.rows} ` +
        `ny_day_offer_p50_ms=${dayOfferNewYork.p50Ms} ny_link_entry_country_p50_ms=${linkEntryCountryNewYork.p50Ms} ` +
        `kathmandu_day_offer_p50_ms=${dayOfferKathmandu.p50Ms} partner_ny_day_offer_p50_ms=${partnerDayOffer.p50Ms} raw_scan_day_offer_ms=${round(rawMs, 1)} ` +
        `day_offer_vs_raw_scan=${round(dayOffer.p50Ms / rawMs, 3)}\n`,
    );
  }, kept);
}
