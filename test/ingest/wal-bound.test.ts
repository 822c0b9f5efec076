import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../src/store/sqlite/index.js';
import { randomClick } from './fixtures/random-click.mjs';
import { openWriter, type WriterFixture } from './helpers.js';

let fixture: WriterFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

it('keeps the WAL bounded while writes never pause (the writer completes starved checkpoints)', async () => {
  // A small limit and a fast checkpointer so the backstop engages within a short test. Without it the
  // background checkpoint never catches up with back-to-back batches and the WAL holds every click.
  fixture = await openWriter({ synchronous: 'normal', walLimitPages: 256, checkpointIntervalMs: 10 });
  const { writer } = fixture;
  let remaining = 12_000;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (remaining-- > 0) await writer.write(randomClick());
  }));
  const walBytes = fs.statSync(path.join(fixture.dataDir, `${DATABASE_FILE}-wal`)).size;
  const databaseBytes = fs.statSync(path.join(fixture.dataDir, DATABASE_FILE)).size;
  // The WAL file keeps its high-water size; unbounded it would exceed the whole database many times.
  expect(walBytes).toBeLessThan(databaseBytes);
  expect(fixture.errors).toEqual([]);
});
