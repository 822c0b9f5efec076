import { expect, it } from 'vitest';
import { parseOptions, summarise, type Round, type WriterResult } from '../../bench/click-writer.js';
import { UsageError } from '../../bench/support.js';

it('the click-writer benchmark repeats its rounds 5 times unless told, and refuses a count that is no whole number', () => {
  expect(parseOptions([])).toEqual({ clicks: 20_000, concurrency: 64, batchWaitMs: 0, repeats: 5 });
  expect(parseOptions(['--repeats', '3', '--clicks', '500'])).toEqual({ clicks: 500, concurrency: 64, batchWaitMs: 0, repeats: 3 });
  for (const bad of [['--repeats', '0'], ['--repeats', '1.5'], ['--repeats', 'many'], ['--repeats'], ['--repeat', '3']]) {
    expect(() => parseOptions(bad), bad.join(' ')).toThrow(UsageError);
  }
  expect(() => parseOptions(['--help'])).toThrow(/\[--repeats VALUE\]/);
});

const writer = (clicksPerS: number, p99Ms: number, commitP50Ms: number, commitP99Ms: number): WriterResult => ({
  clicksPerS, p50Ms: p99Ms / 2, p99Ms, batchMean: 10, commitP50Ms, commitP99Ms,
});
/** A round whose every append+fsync took `fsyncMs`: 1000 / fsyncMs of them per second. */
const round = (fsyncMs: number, full: WriterResult, normal: WriterResult): Round => ({
  fsyncMs: Array.from({ length: 100 }, () => fsyncMs), fdatasyncMs: Array.from({ length: 100 }, () => fsyncMs / 2), full, normal,
});

it('the click-writer figures are medians over the rounds, and its ratios the medians of each round against its own fsync baseline', () => {
  const fields = summarise([
    round(1, writer(2000, 4, 1, 3), writer(4000, 2, 0.5, 1)), // 1000 fsyncs/s: 2 clicks per fsync, p99 4 fsyncs
    round(2, writer(1500, 16, 4, 8), writer(3000, 8, 1, 2)), //   500 fsyncs/s: 3 clicks per fsync, p99 8 fsyncs
    round(4, writer(250, 4, 8, 4), writer(1000, 4, 2, 4)), //     250 fsyncs/s: 1 click per fsync,  p99 1 fsync
  ]);
  expect(fields).toMatchObject({
    repeats: 3,
    fsync_p50_ms: 2, fsync_p99_ms: 2, fdatasync_p50_ms: 1, fdatasync_p99_ms: 1, fsyncs_per_s: 500,
    full_clicks_per_s: 1500, full_p50_ms: 2, full_p99_ms: 4, full_batch_mean: 10, full_commit_p50_ms: 4, full_commit_p99_ms: 4,
    normal_clicks_per_s: 3000, normal_p99_ms: 4,
    // Not 1500 / 500 = 3 nor 4 / 2 = 2: a ratio pairs a round's writer with the same round's disk.
    ratio_full_clicks_per_s_to_fsyncs_per_s: 2,
    ratio_full_p99_to_fsync_p99: 4,
    ratio_full_commit_p50_to_fsync_p50: 2,
    ratio_full_commit_p99_to_fsync_p99: 3,
    ratio_normal_clicks_per_s_to_fsyncs_per_s: 4,
    ratio_normal_to_full_clicks_per_s: 2,
  });
});
