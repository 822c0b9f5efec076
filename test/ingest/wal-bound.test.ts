import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../src/store/sqlite/index.js';
import { randomClick } from './fixtures/random-click.mjs';
import { openWriter, type WriterFixture } from './helpers.js';

const WAL_LIMIT_PAGES = 256;

/** The database's page size (a WAL frame is a 24-byte header and one page). */
function pageSize(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return Number(db.pragma('page_size', { simple: true }));
  } finally {
    db.close();
  }
}

let fixture: WriterFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

it('keeps the WAL bounded while writes never pause (the writer completes starved checkpoints)', async () => {
  // A small limit and a fast checkpointer so the backstop engages within a short test. Without it the
  // background checkpoint never catches up with back-to-back batches and the WAL holds every click.
  fixture = await openWriter({ synchronous: 'normal', walLimitPages: WAL_LIMIT_PAGES, checkpointIntervalMs: 50 });
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
  // Unbounded, the log would hold every click and grow as large as the database itself. Bounded, it
  // restarts whenever it outgrows the limit and the file is cut back.
  expect(walHighWater).toBeLessThan(databaseBytes);
  // Once the load ends the file comes back to the limit: a quiet moment lets a checkpoint copy
  // everything, and the next commit cuts the file back. The size at the very end of the load is not
  // that bound: it is whatever the last stretch grew to, and on a machine whose every core is busy
  // the checkpointer thread holds the checkpoint lock longer, so that stretch is longer (11 MB of a
  // 23 MB database once, with a benchmark running beside the suite).
  const walLimitBytes = 32 + WAL_LIMIT_PAGES * (24 + pageSize(path.join(dataDir, DATABASE_FILE)));
  let walBytes = fs.statSync(walFile).size;
  for (let tries = 0; tries < 100 && walBytes > walLimitBytes; tries++) {
    await writer.write(randomClick());
    await new Promise((resolve) => setTimeout(resolve, 20));
    walBytes = fs.statSync(walFile).size;
  }
  expect(walBytes).toBeLessThanOrEqual(walLimitBytes);
  expect(fixture.errors).toEqual([]);
});
