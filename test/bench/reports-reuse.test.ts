import fs from 'node:fs';
import { afterEach, expect, it, vi } from 'vitest';
import { main } from '../../bench/reports.js';

async function printed(args: string[]): Promise<string[]> {
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

afterEach(() => vi.unstubAllEnvs());

it('a kept database is named, and timing it again reports the clicks it holds, not the --clicks default', async () => {
  vi.stubEnv('KEEP_BENCH_DB', '1');
  const kept = await printed(['--clicks', '1500', '--runs', '1']);
  const dir = /kept the database in (\S+):/.exec(kept.join('\n'))?.[1];
  expect(dir, kept.join('\n')).toBeDefined();
  try {
    vi.unstubAllEnvs();
    vi.stubEnv('REUSE_BENCH_DB', dir ?? '');
    const reused = await printed(['--runs', '1']);
    expect(reused.at(-1)).toMatch(/^BENCH reports clicks=1500 /);
  } finally {
    fs.rmSync(dir ?? '', { recursive: true, force: true });
  }
});
