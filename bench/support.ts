import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** A numeric `--name value` option, or the fallback. */
export function option(args: string[], name: string, fallback: number): number {
  const index = args.indexOf(`--${name}`);
  const value = index >= 0 ? Number(args[index + 1]) : fallback;
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a non-negative number`);
  return value;
}

export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export const median = (samples: readonly number[]): number => percentile(samples, 50);

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
