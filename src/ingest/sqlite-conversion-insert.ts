import type Database from 'better-sqlite3';
import type { ConversionWrite, ConversionWriteResult } from '../ports/conversion-writer.js';
import { CONVERSION_COLUMNS, conversionToRow } from '../store/sql/conversion-row.js';
import type { RollupUpdater } from './sqlite-rollups.js';

/**
 * Compiles the writer thread's conversion statements. The returned function stores one conversion
 * and, when it is new and has one, its partner postback — both or neither, inside a savepoint of the
 * batch's transaction —, stages its report rollups (written when the batch ends) and says whether it
 * was new. It must run inside that transaction.
 */
export function prepareConversionInsert(db: Database.Database, rollups: RollupUpdater): (write: ConversionWrite) => ConversionWriteResult {
  // The unique index decides duplicates inside the insert itself: `do nothing` + no returned row
  // means an earlier conversion (committed, or earlier in this batch) holds the key. Checking with
  // a read first would race with itself across batches and nodes.
  const insert = db.prepare<Record<string, unknown>, { id: number }>(
    `insert into conversions (${CONVERSION_COLUMNS.join(', ')}) values (${CONVERSION_COLUMNS.map((c) => `@${c}`).join(', ')})
     on conflict (transaction_id, event_key, order_key) do nothing returning id`,
  );
  const holder = db.prepare<[string, string, string], { id: number }>(
    'select id from conversions where transaction_id = ? and event_key = ? and order_key = ?',
  );
  const queuePostback = db.prepare<[number, number, string, string, string]>(
    `insert into partner_postbacks (conversion_id, partner_id, url, state, attempts, next_attempt_at, created_at)
     values (?, ?, ?, 'pending', 0, ?, ?)`,
  );
  // Called inside the batch's transaction, better-sqlite3 runs this as a savepoint: a failing
  // postback insert undoes its conversion too, and the rest of the batch still commits.
  return db.transaction((write: ConversionWrite): ConversionWriteResult => {
    const { conversion, partner_postback: postback } = write;
    const row = conversionToRow(write);
    const inserted = insert.get(row);
    if (inserted === undefined) {
      const existing = holder.get(conversion.transaction_id, write.event_key, write.order_key);
      if (existing === undefined) throw new Error('conversion insert did nothing, yet no conversion holds its key');
      return { inserted: false, id: Number(existing.id) };
    }
    const id = Number(inserted.id);
    if (postback !== null) {
      queuePostback.run(id, postback.partner_id, postback.url_pieces.join(String(id)), conversion.time, conversion.time);
    }
    // Staged last, once nothing in this savepoint can fail any more; written before the batch commits.
    rollups.addConversion(row);
    return { inserted: true, id };
  });
}
