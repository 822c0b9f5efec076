import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import type { ClickRecord } from '../../src/domain/click.js';
import { ROLLUP_CUBES } from '../../src/domain/report.js';
import { rebuildRollups } from '../../src/ingest/sqlite-rollups.js';
import { openSqliteClickWriter, type SqliteClickWriterOptions, type SqliteWriter } from '../../src/ingest/index.js';
import type { ConversionWrite } from '../../src/ports/conversion-writer.js';
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

export interface ConversionOptions {
  /** '' = the base conversion; any other key is an event. */
  eventKey?: string;
  /** The partner postback's URL pieces; null = no postback. */
  postbackUrl?: string[] | null;
  payoutMicros?: number;
  revenueMicros?: number;
}

/** An approved server-postback conversion of `click`, as the conversion route hands it to the writer. */
export function conversionOf(click: ClickRecord, options: ConversionOptions = {}): ConversionWrite {
  const { eventKey = '', postbackUrl = null, payoutMicros = 1, revenueMicros = 2 } = options;
  return {
    conversion: {
      transaction_id: click.transaction_id, time: new Date().toISOString(), click_time: click.time,
      offer_id: 1, partner_id: click.partner_id, advertiser_id: 1, smart_link_id: click.smart_link_id,
      entry_id: click.entry_id, offer_url_id: click.offer_url_id, method: 'server_postback', status: 'approved',
      status_reason: null, event_id: eventKey || null, order_id: null, amount_micros: null, payout_micros: payoutMicros, revenue_micros: revenueMicros,
      adv1: null, adv2: null, adv3: null, adv4: null, adv5: null,
    },
    event_key: eventKey,
    order_key: '',
    partner_postback: postbackUrl === null ? null : { partner_id: click.partner_id, url_pieces: postbackUrl },
  };
}

/** Each cube, row by row, equals what a rebuild computes from the raw records. */
export function expectCubesAsRebuilt(file: string): void {
  const db = new Database(file);
  try {
    const dump = () => ROLLUP_CUBES.map((cube) => db.prepare(`select * from ${cube.table} order by ${['bucket', ...cube.dimensions].join(', ')}`).all());
    const kept = dump();
    rebuildRollups(db);
    expect(dump()).toEqual(kept);
  } finally {
    db.close();
  }
}
