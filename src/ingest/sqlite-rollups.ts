import type Database from 'better-sqlite3';
import type { Grain, RollupDimension } from '../domain/report.js';
import type { ClickRow } from '../store/sql/click-row.js';
import type { NewConversionRow } from '../store/sql/conversion-row.js';
import {
  bucketOf, clickDimensions, clickSums, conversionSums, cubeKeyColumns, cubeUpsertSql, ROLLUP_CUBES, ROLLUP_REBUILD_SQL, ROLLUP_SUM_COLUMNS,
  type RollupDimensions, type RollupSums,
} from '../store/sql/rollup-row.js';

/**
 * Adds clicks and conversions to every rollup cube. `add*` only stage the sums in memory; `flush`
 * writes them, one upsert per cube and key, and must run inside the transaction that stored the rows,
 * before it commits. Stage a row only once its own insert can no longer be undone by a savepoint.
 */
export interface RollupUpdater {
  addClick(click: ClickRow): void;
  /** Adds a new conversion under its click's dimensions; one without a stored click is not reported. */
  addConversion(conversion: NewConversionRow): void;
  /** Upserts every staged sum and forgets them. */
  flush(): void;
  /** Forgets every staged sum (the transaction they belonged to did not commit). */
  discard(): void;
}

interface Staged {
  values: (string | number)[];
  sums: number[];
}

/**
 * Compiles the rollup statements of the writer thread (and of the report benchmark's bulk load).
 * Staging per batch matters: clicks of one batch mostly share their link, entry and hour, so a batch
 * of 64 clicks needs far fewer than 64 upserts per coarse cube (and each costs ~3–7 µs).
 */
export function prepareRollups(db: Database.Database): RollupUpdater {
  const cubes = ROLLUP_CUBES.map((cube) => ({
    cube, keys: cubeKeyColumns(cube), upsert: db.prepare(cubeUpsertSql(cube)), staged: new Map<string, Staged>(),
  }));
  const clickOf = db.prepare<[string], ClickRow>('select * from clicks where transaction_id = ?');
  const add = (time: string, dimensions: RollupDimensions, sums: RollupSums) => {
    const buckets: Record<Grain, string> = { quarter: bucketOf(time, 'quarter'), hour: bucketOf(time, 'hour'), day: bucketOf(time, 'day') };
    const amounts = ROLLUP_SUM_COLUMNS.map((column) => sums[column]);
    for (const { cube, keys, staged } of cubes) {
      const values = keys.map((key) => (key === 'bucket' ? buckets[cube.grain] : dimensions[key as RollupDimension]));
      // JSON keeps the key unambiguous whatever text a sub id holds.
      const id = JSON.stringify(values);
      const found = staged.get(id);
      if (found === undefined) staged.set(id, { values, sums: [...amounts] });
      else amounts.forEach((amount, i) => (found.sums[i] = (found.sums[i] ?? 0) + amount));
    }
  };
  return {
    addClick(click) {
      add(click.time, clickDimensions(click), clickSums(click));
    },
    addConversion(conversion) {
      const sums = conversionSums(conversion);
      if (sums === null) return;
      const click = clickOf.get(conversion.transaction_id);
      if (click !== undefined) add(conversion.time, clickDimensions(click), sums);
    },
    flush() {
      for (const { upsert, staged } of cubes) {
        const entries = [...staged.values()];
        staged.clear();
        for (const { values, sums } of entries) upsert.run([...values, ...sums]);
      }
    },
    discard() {
      for (const { staged } of cubes) staged.clear();
    },
  };
}

/**
 * Recomputes every rollup cube from raw clicks and conversions in one `BEGIN IMMEDIATE` transaction.
 * It holds the write lock throughout, so a running server's writer waits (and fails its batch after
 * its busy timeout): run it with the server stopped, or at a quiet time.
 */
export function rebuildRollups(db: Database.Database): { rows: Record<string, number> } {
  const statements = ROLLUP_REBUILD_SQL.map((text) => db.prepare(text));
  const counts = ROLLUP_CUBES.map((cube) => [cube.table, db.prepare<[], { n: number }>(`select count(*) as n from ${cube.table}`)] as const);
  return db.transaction(() => {
    for (const statement of statements) statement.run();
    return { rows: Object.fromEntries(counts.map(([table, count]) => [table, count.get()?.n ?? 0])) };
  }).immediate();
}
