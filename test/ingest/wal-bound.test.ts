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
  fixture = await openWriter({ synchronous: 'normal', walLimitPages: 256, checkpointIntervalMs: 50 });
  const { writer, dataDir } = fixture;
  const walFile = path.join(dataDir, `${DATABASE_FILE}-wal`);
  // The WAL file shrinks back when its log restarts, so its size is sampled throughout the run.
  let walHighWater = 0;
  const sampler = setInterval(() => {
    if (fs.existsSync(walFile)) walHighWater = Math.max(walHighWater, fs.statSync(walFile).size);
  }, 2);
  let remaining = 16_000;
  try {
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (remaining-- > 0) await writer.write(randomClick());
    }));
  } finally {
    clearInterval(sampler);
  }
  const databaseBytes = fs.statSync(path.join(dataDir, DATABASE_FILE)).size;
  const walBytes = fs.statSync(walFile).size;
  // Unbounded, the log would hold every click and grow as large as the database itself. Bounded, it
  // restarts whenever it outgrows the limit and the file is cut back, so little is left after the load.
  expect(walHighWater).toBeLessThan(databaseBytes);
  expect(walBytes).toBeLessThan(databaseBytes / 3);
  expect(fixture.errors).toEqual([]);
});
