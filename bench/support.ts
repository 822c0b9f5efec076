import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A command line the benchmark cannot run: `npm run bench` prints the message (no stack) and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** `--help` asked for the usage: printed on stdout, exit 0. */
  constructor(message: string, readonly help = false) {
    super(message);
  }
}

/** The options a benchmark accepts: `--name value` ones and bare flags. */
export interface OptionSpec {
  readonly values: readonly string[];
  readonly flags?: readonly string[];
}

/**
 * Refuses what a benchmark does not know, before it starts: a mistyped option (`--seed` for
 * `--seeds`) would otherwise be ignored and the full-size default run would start. `--help` throws
 * the usage.
 */
export function checkOptions(benchmark: string, args: readonly string[], spec: OptionSpec): void {
  const usage = `usage: npm run bench -- ${benchmark}${spec.values.map((name) => ` [--${name} VALUE]`).join('')}${(spec.flags ?? []).map((name) => ` [--${name}]`).join('')} (see README "Benchmarks")`;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--help' || arg === '-h') throw new UsageError(usage, true);
    const name = arg.startsWith('--') ? arg.slice(2) : null;
    if (name !== null && spec.values.includes(name)) {
      const value = args[i + 1];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`${benchmark}: --${name} needs a value\n${usage}`);
      i++;
    } else if (name === null || !(spec.flags ?? []).includes(name)) {
      throw new UsageError(`${benchmark}: unknown option ${arg}\n${usage}`);
    }
  }
}

const cleanups = new Set<() => void>();
let signalsHooked = false;

/**
 * Runs `cleanup` if the benchmark is stopped by Ctrl-C, SIGTERM or SIGHUP, which end the process
 * without running its `finally` blocks (temporary folders of gigabytes, servers still listening).
 * Synchronous: the process exits right after. Returns the function that unregisters it.
 */
export function cleanupOnSignal(cleanup: () => void): () => void {
  if (!signalsHooked) {
    signalsHooked = true;
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        for (const fn of cleanups) {
          try {
            fn();
          } catch {
            // the others still run
          }
        }
        process.stderr.write(`bench: stopped by ${signal}; temporary files and servers removed\n`);
        process.exit(128 + os.constants.signals[signal]);
      });
    }
  }
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** A folder removed when `fn` ends, fails or the benchmark is interrupted (unless `keep`). */
export async function inTempDir<T>(dir: string, fn: (dir: string) => Promise<T>, keep = false): Promise<T> {
  const remove = () => {
    if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  };
  const forget = cleanupOnSignal(remove);
  try {
    return await fn(dir);
  } finally {
    forget();
    remove();
  }
}

/** A numeric `--name value` option, or the fallback. */
export function option(args: string[], name: string, fallback: number, minimum = 0): number {
  const index = args.indexOf(`--${name}`);
  const value = index >= 0 ? Number(args[index + 1]) : fallback;
  if (!Number.isFinite(value) || value < minimum) throw new UsageError(`--${name} must be a number of at least ${minimum}`);
  return value;
}

export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** The middle sample, or the mean of the two middle ones for an even count (not the upper one). */
export function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  if (sorted.length % 2 === 1) return sorted[middle] ?? 0;
  return sorted.length === 0 ? 0 : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

export const round = (value: number, digits = 3): number => Number(value.toFixed(digits));

/** Least-squares slope of y over x: how fast a series grows, robust to the swings between samples. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i] ?? 0;
    sy += ys[i] ?? 0;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] ?? 0) - mx;
    num += dx * ((ys[i] ?? 0) - my);
    den += dx * dx;
  }
  return den > 0 ? num / den : 0;
}

/** The physical floor of a durable answer: small appends each followed by a sync, in `dir`. */
export function syncLatenciesMs(dir: string, sync: (fd: number) => void = fs.fsyncSync, rounds = 500): number[] {
  const file = path.join(dir, `sync-${crypto.randomUUID()}`);
  const fd = fs.openSync(file, 'a');
  const record = Buffer.alloc(512, 1);
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    fs.writeSync(fd, record);
    sync(fd);
    samples.push(performance.now() - started);
  }
  fs.closeSync(fd);
  fs.rmSync(file);
  return samples;
}
