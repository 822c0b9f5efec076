/**
 * Click-writer benchmark: clicks/s and write latency (p50/p99) with concurrent writers, in
 * synchronous=FULL and NORMAL, beside the baseline that bounds them — the disk's own append+fsync
 * latency in the same directory. Each round measures the baseline and then both modes, back to back
 * (a drifting machine drifts for all three); the figures are medians over the rounds, and each ratio
 * to the baseline is the median of the per-round ratios. Options: --clicks N (per mode and round,
 * default 20000), --concurrency N (default 64), --batch-wait-ms N (default 0), --repeats N (rounds,
 * default 5). Data goes to a temporary folder inside DATA_DIR (default ./data), so the figures are
 * for the disk the server would use.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ClickRecord } from '../src/domain/click.js';
import { openSqliteClickWriter } from '../src/ingest/index.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { checkOptions, inTempDir, median, option, percentile as percentileMs, round, syncLatenciesMs as syncLatencies, UsageError } from './support.js';

type Sync = 'full' | 'normal';

function benchClick(): ClickRecord {
  return {
    transaction_id: crypto.randomBytes(16).toString('hex'), time: new Date().toISOString(), smart_link_id: 7,
    partner_id: 3, tracking_token: crypto.randomBytes(18).toString('base64url'), entry_id: 41, offer_id: 12,
    offer_url_id: null, advertiser_id: 2, outcome: 'routed', reason: null,
    skipped: [{ entry_id: 40, reason: 31 }], is_unique: true, ip: '203.0.113.9',
    user_agent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148',
    device: { os: 'iOS', os_version: '17.4', device_type: 'mobile', browser: 'Mobile Safari', brand: 'Apple', language: 'en-US' },
    geo: { country: 'US', region: 'CA', city: 'San Francisco' },
    sub1: 'campaign-42', sub2: null, sub3: null, sub4: null, sub5: null, source_id: 'feed-9', idfa: null, gaid: null,
    visitor_id: 'f'.repeat(32), destination: 'https://advertiser.example/landing?tid=abc', deep_link: null, kpi_run_id: null,
  };
}

export interface WriterResult {
  clicksPerS: number;
  p50Ms: number;
  p99Ms: number;
  batchMean: number;
  commitP50Ms: number;
  commitP99Ms: number;
}

async function benchWriter(root: string, synchronous: Sync, clicks: number, concurrency: number, batchWaitMs: number): Promise<WriterResult> {
  const dataDir = fs.mkdtempSync(path.join(root, `${synchronous}-`));
  const store = await openSqliteStore({ dataDir, synchronous });
  const batches: number[] = [];
  const commitsMs: number[] = [];
  const writer = await openSqliteClickWriter({
    dataDir, synchronous, batchMax: 512, batchWaitMs,
    onBatch: (size, commitMs) => {
      batches.push(size);
      commitsMs.push(commitMs);
    },
  });
  const latencies: number[] = [];
  let issued = 0;
  const client = async () => {
    while (issued++ < clicks) {
      const started = performance.now();
      await writer.write(benchClick());
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => writer.write(benchClick()))); // warm-up
  batches.length = 0;
  commitsMs.length = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, client));
  const elapsedS = (performance.now() - started) / 1000;
  await writer.close();
  await store.close();
  // Each round writes a fresh database: the earlier ones need not fill the disk.
  fs.rmSync(dataDir, { recursive: true, force: true });
  return {
    clicksPerS: Math.round(latencies.length / elapsedS),
    p50Ms: round(percentileMs(latencies, 50)),
    p99Ms: round(percentileMs(latencies, 99)),
    batchMean: Math.round((10 * batches.reduce((a, b) => a + b, 0)) / Math.max(1, batches.length)) / 10,
    commitP50Ms: round(percentileMs(commitsMs, 50)),
    commitP99Ms: round(percentileMs(commitsMs, 99)),
  };
}

export interface Options {
  clicks: number;
  concurrency: number;
  batchWaitMs: number;
  repeats: number;
}

const MODES = ['full', 'normal'] as const;

export function parseOptions(args: string[]): Options {
  checkOptions('click-writer', args, { values: ['clicks', 'concurrency', 'batch-wait-ms', 'repeats'] });
  const repeats = option(args, 'repeats', 5, 1);
  if (!Number.isInteger(repeats)) throw new UsageError('--repeats must be a whole number of at least 1');
  return {
    clicks: option(args, 'clicks', 20_000, 1),
    concurrency: option(args, 'concurrency', 64, 1),
    batchWaitMs: option(args, 'batch-wait-ms', 0),
    repeats,
  };
}

/** One round: the disk's append+sync latencies, then the writer in each mode, measured back to back. */
export interface Round {
  fsyncMs: readonly number[];
  fdatasyncMs: readonly number[];
  full: WriterResult;
  normal: WriterResult;
}

/** Appends+fsyncs per second, one after the other: the durable rate with no group commit at all. */
const perSecond = (latenciesMs: readonly number[]): number => (1000 * latenciesMs.length) / Math.max(1e-9, latenciesMs.reduce((a, b) => a + b, 0));

/**
 * The BENCH figures of the rounds: each absolute figure is the median over the rounds; each ratio
 * is the median of the per-round ratios, a round's writer against the same round's baseline.
 */
export function summarise(rounds: readonly Round[]): Record<string, number> {
  const med = (f: (r: Round) => number, digits = 3) => round(median(rounds.map(f)), digits);
  const fsyncP50 = (r: Round) => percentileMs(r.fsyncMs, 50);
  const fsyncP99 = (r: Round) => percentileMs(r.fsyncMs, 99);
  const fields: Record<string, number> = {
    repeats: rounds.length,
    fsync_p50_ms: med(fsyncP50),
    fsync_p99_ms: med(fsyncP99),
    fdatasync_p50_ms: med((r) => percentileMs(r.fdatasyncMs, 50)),
    fdatasync_p99_ms: med((r) => percentileMs(r.fdatasyncMs, 99)),
    fsyncs_per_s: med((r) => perSecond(r.fsyncMs), 0),
  };
  for (const mode of MODES) {
    fields[`${mode}_clicks_per_s`] = med((r) => r[mode].clicksPerS, 0);
    fields[`${mode}_p50_ms`] = med((r) => r[mode].p50Ms);
    fields[`${mode}_p99_ms`] = med((r) => r[mode].p99Ms);
    fields[`${mode}_batch_mean`] = med((r) => r[mode].batchMean, 1);
    fields[`${mode}_commit_p50_ms`] = med((r) => r[mode].commitP50Ms);
    fields[`${mode}_commit_p99_ms`] = med((r) => r[mode].commitP99Ms);
  }
  for (const mode of MODES) {
    // Clicks made durable in the time one bare append+fsync takes (above 1: group commit pays).
    fields[`ratio_${mode}_clicks_per_s_to_fsyncs_per_s`] = med((r) => r[mode].clicksPerS / perSecond(r.fsyncMs));
    // A click's write, and one batch's commit, in units of the disk's own sync latency.
    fields[`ratio_${mode}_p99_to_fsync_p99`] = med((r) => r[mode].p99Ms / fsyncP99(r));
    fields[`ratio_${mode}_commit_p50_to_fsync_p50`] = med((r) => r[mode].commitP50Ms / fsyncP50(r));
    fields[`ratio_${mode}_commit_p99_to_fsync_p99`] = med((r) => r[mode].commitP99Ms / fsyncP99(r));
  }
  fields.ratio_normal_to_full_clicks_per_s = med((r) => r.normal.clicksPerS / r.full.clicksPerS);
  return fields;
}

export async function main(args: string[]): Promise<void> {
  const { clicks, concurrency, batchWaitMs, repeats } = parseOptions(args);
  const dataRoot = path.resolve(process.env.DATA_DIR ?? './data');
  fs.mkdirSync(dataRoot, { recursive: true });
  await inTempDir(fs.mkdtempSync(path.join(dataRoot, 'bench-click-writer-')), async (root) => {
    const rounds: Round[] = [];
    for (let r = 1; r <= repeats; r++) {
      const fsyncMs = syncLatencies(root, fs.fsyncSync);
      const fdatasyncMs = syncLatencies(root, fs.fdatasyncSync);
      process.stdout.write(`click-writer round ${r}/${repeats}: fsync p50 ${round(percentileMs(fsyncMs, 50))} ms, p99 ${round(percentileMs(fsyncMs, 99))} ms, ${Math.round(perSecond(fsyncMs))} appends+fsyncs/s\n`);
      const results = {} as Record<(typeof MODES)[number], WriterResult>;
      for (const synchronous of MODES) {
        results[synchronous] = await benchWriter(root, synchronous, clicks, concurrency, batchWaitMs);
        process.stdout.write(`click-writer round ${r}/${repeats} synchronous=${synchronous} concurrency=${concurrency}: ${JSON.stringify(results[synchronous])}\n`);
      }
      rounds.push({ fsyncMs, fdatasyncMs, ...results });
    }
    const line = Object.entries(summarise(rounds)).map(([key, value]) => `${key}=${value}`).join(' ');
    process.stdout.write(`BENCH click-writer concurrency=${concurrency} batch_wait_ms=${batchWaitMs} clicks=${clicks} ${line}\n`);
  });
}
