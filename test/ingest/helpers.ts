import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteClickWriter, type SqliteClickWriterOptions, type SqliteWriter } from '../../src/ingest/index.js';
import type { Store } from '../../src/ports/store.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';

export interface WriterFixture {
  dataDir: string;
  store: Store;
  writer: SqliteWriter;
  batches: number[];
  errors: Error[];
  close(): Promise<void>;
}

export const tempDataDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-ingest-'));

/** A migrated store and a click writer on a fresh database file, recording batch sizes and errors. */
export async function openWriter(
  options: Partial<SqliteClickWriterOptions> & Pick<SqliteClickWriterOptions, 'synchronous'>,
): Promise<WriterFixture> {
  const dataDir = tempDataDir();
  const store = await openSqliteStore({ dataDir, synchronous: options.synchronous });
  const batches: number[] = [];
  const errors: Error[] = [];
  const writer = await openSqliteClickWriter({
    dataDir,
    batchMax: 512,
    batchWaitMs: 0,
    onBatch: (size) => batches.push(size),
    onError: (err) => errors.push(err),
    ...options,
  });
  return {
    dataDir, store, writer, batches, errors,
    async close() {
      await writer.close();
      await store.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
