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
