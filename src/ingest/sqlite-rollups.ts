import type Database from 'better-sqlite3';
import type { ClickRow } from '../store/sql/click-row.js';
import type { NewConversionRow } from '../store/sql/conversion-row.js';
import {
  bucketOf, clickKey, clickSums, conversionSums, ROLLUP_KEY_COLUMNS, ROLLUP_REBUILD_SQL, ROLLUP_SUM_COLUMNS, ROLLUP_UPSERT_SQL,
  type RollupKey, type RollupSums,
} from '../store/sql/rollup-row.js';

/** Adds clicks and conversions to `report_rollups`; every call must run inside the transaction that stores the row. */
export interface RollupUpdater {
  addClick(click: ClickRow): void;
  /** Adds a new conversion under its click's dimensions; one without a stored click is not reported. */
  addConversion(conversion: NewConversionRow): void;
}

/** Compiles the rollup statements of the writer thread (and of the report benchmark's bulk load). */
export function prepareRollups(db: Database.Database): RollupUpdater {
  const upsert = db.prepare(ROLLUP_UPSERT_SQL);
  const clickOf = db.prepare<[string], ClickRow>('select * from clicks where transaction_id = ?');
  const add = (key: RollupKey, sums: RollupSums) =>
    upsert.run(...ROLLUP_KEY_COLUMNS.map((c) => key[c]), ...ROLLUP_SUM_COLUMNS.map((c) => sums[c]));
  return {
    addClick(click) {
      add(clickKey(click, bucketOf(click.time)), clickSums(click));
    },
    addConversion(conversion) {
      const sums = conversionSums(conversion);
      if (sums === null) return;
      const click = clickOf.get(conversion.transaction_id);
      if (click !== undefined) add(clickKey(click, bucketOf(conversion.time)), sums);
    },
  };
}

/**
 * Recomputes every rollup from raw clicks and conversions in one `BEGIN IMMEDIATE` transaction.
 * It holds the write lock throughout, so a running server's writer waits (and fails its batch after
 * its busy timeout): run it with the server stopped, or at a quiet time.
 */
export function rebuildRollups(db: Database.Database): { rows: number } {
  const statements = ROLLUP_REBUILD_SQL.map((text) => db.prepare(text));
  const count = db.prepare<[], { n: number }>('select count(*) as n from report_rollups');
  return db.transaction(() => {
    for (const statement of statements) statement.run();
    return { rows: count.get()?.n ?? 0 };
  }).immediate();
}
