/**
 * Click-writer benchmark: clicks/s and write latency (p50/p99) with concurrent writers, in
 * synchronous=FULL and NORMAL, beside the baseline that bounds them — the disk's own append+fsync
 * latency in the same directory. Options: --clicks N (per mode, default 20000), --concurrency N
 * (default 64), --batch-wait-ms N (default 0). Data goes to a temporary folder inside DATA_DIR
 * (default ./data), so the figures are for the disk the server would use.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ClickRecord } from '../src/domain/click.js';
import { openSqliteClickWriter } from '../src/ingest/index.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { checkOptions, inTempDir, option, percentile as percentileMs, round, syncLatenciesMs as syncLatencies } from './support.js';

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

interface WriterResult {
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
  return {
    clicksPerS: Math.round(latencies.length / elapsedS),
    p50Ms: round(percentileMs(latencies, 50)),
    p99Ms: round(percentileMs(latencies, 99)),
    batchMean: Math.round((10 * batches.reduce((a, b) => a + b, 0)) / Math.max(1, batches.length)) / 10,
    commitP50Ms: round(percentileMs(commitsMs, 50)),
    commitP99Ms: round(percentileMs(commitsMs, 99)),
  };
}

export async function main(args: string[]): Promise<void> {
  checkOptions('click-writer', args, { values: ['clicks', 'concurrency', 'batch-wait-ms'] });
  const clicks = option(args, 'clicks', 20_000, 1);
  const concurrency = option(args, 'concurrency', 64, 1);
  const batchWaitMs = option(args, 'batch-wait-ms', 0);
  const dataRoot = path.resolve(process.env.DATA_DIR ?? './data');
  fs.mkdirSync(dataRoot, { recursive: true });
  await inTempDir(fs.mkdtempSync(path.join(dataRoot, 'bench-click-writer-')), async (root) => {
    const fsyncs = syncLatencies(root, fs.fsyncSync);
    const fdatasyncs = syncLatencies(root, fs.fdatasyncSync);
    const fields: Record<string, number> = {
      fsync_p50_ms: round(percentileMs(fsyncs, 50)),
      fsync_p99_ms: round(percentileMs(fsyncs, 99)),
      fdatasync_p50_ms: round(percentileMs(fdatasyncs, 50)),
      fdatasync_p99_ms: round(percentileMs(fdatasyncs, 99)),
    };
    for (const synchronous of ['full', 'normal'] as const) {
      const result = await benchWriter(root, synchronous, clicks, concurrency, batchWaitMs);
      process.stdout.write(`click-writer synchronous=${synchronous} concurrency=${concurrency}: ${JSON.stringify(result)}\n`);
      fields[`${synchronous}_clicks_per_s`] = result.clicksPerS;
      fields[`${synchronous}_p50_ms`] = result.p50Ms;
      fields[`${synchronous}_p99_ms`] = result.p99Ms;
      fields[`${synchronous}_batch_mean`] = result.batchMean;
      fields[`${synchronous}_commit_p50_ms`] = result.commitP50Ms;
      fields[`${synchronous}_commit_p99_ms`] = result.commitP99Ms;
    }
    const line = Object.entries(fields).map(([key, value]) => `${key}=${value}`).join(' ');
    process.stdout.write(`BENCH click-writer concurrency=${concurrency} batch_wait_ms=${batchWaitMs} ${line}\n`);
  });
}
