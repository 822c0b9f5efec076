import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import * as clickWriter from '../../bench/click-writer.js';
import * as reports from '../../bench/reports.js';

/** Runs a benchmark's main with tiny sizes; returns what it printed. */
async function printed(main: (args: string[]) => Promise<void>, args: string[]): Promise<string[]> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
  try {
    await main(args);
  } finally {
    spy.mockRestore();
  }
  return lines;
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-runs-'));
afterEach(() => vi.unstubAllEnvs());

it('the reports benchmark loads its clicks into a fresh database and ends with its BENCH line', async () => {
  const lines = await printed(reports.main, ['--clicks', '2000', '--runs', '1']);
  expect(lines.at(-1)).toMatch(/^BENCH reports clicks=2000 .*day_offer_rows=\d+/);
});

it('the click-writer benchmark writes its clicks in each round and ends with its BENCH line, leaving no folder behind', async () => {
  vi.stubEnv('DATA_DIR', dataDir);
  const lines = await printed(clickWriter.main, ['--clicks', '200', '--concurrency', '4', '--repeats', '2']);
  expect(lines.filter((line) => line.startsWith('click-writer round 2/2 synchronous='))).toHaveLength(2);
  expect(lines.at(-1)).toMatch(/^BENCH click-writer concurrency=4 .*repeats=2 .*full_clicks_per_s=\d+ .*ratio_full_clicks_per_s_to_fsyncs_per_s=[\d.]+ .*ratio_full_p99_to_fsync_p99=[\d.]+/);
  expect(fs.readdirSync(dataDir)).toEqual([]);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

it('a kept database is named, and timing it again reports the clicks it holds, not the --clicks default', async () => {
  vi.stubEnv('KEEP_BENCH_DB', '1');
  const kept = await printed(reports.main, ['--clicks', '1500', '--runs', '1']);
  const dir = /kept the database in (\S+):/.exec(kept.join('\n'))?.[1];
  expect(dir, kept.join('\n')).toBeDefined();
  try {
    vi.unstubAllEnvs();
    vi.stubEnv('REUSE_BENCH_DB', dir ?? '');
    const reused = await printed(reports.main, ['--runs', '1']);
    expect(reused.at(-1)).toMatch(/^BENCH reports clicks=1500 /);
  } finally {
    fs.rmSync(dir ?? '', { recursive: true, force: true });
  }
});
