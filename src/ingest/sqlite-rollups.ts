import type Database from 'better-sqlite3';
import type { Grain, RollupDimension } from '../domain/report.js';
import type { ClickRow } from '../store/sql/click-row.js';
import type { NewConversionRow } from '../store/sql/conversion-row.js';
import {
  bucketOf, clickDimensions, clickSums, conversionSums, cubeKeyColumns, cubeUpsertSql, ROLLUP_CUBES, ROLLUP_REBUILD_SQL, ROLLUP_SUM_COLUMNS,
  type RollupDimensions, type RollupSums,
} from '../store/sql/rollup-row.js';

/** Adds clicks and conversions to every rollup cube; every call must run inside the transaction that stores the row. */
export interface RollupUpdater {
  addClick(click: ClickRow): void;
  /** Adds a new conversion under its click's dimensions; one without a stored click is not reported. */
  addConversion(conversion: NewConversionRow): void;
}

/** Compiles the rollup statements of the writer thread (and of the report benchmark's bulk load). */
export function prepareRollups(db: Database.Database): RollupUpdater {
  const cubes = ROLLUP_CUBES.map((cube) => ({ cube, keys: cubeKeyColumns(cube), upsert: db.prepare(cubeUpsertSql(cube)) }));
  const clickOf = db.prepare<[string], ClickRow>('select * from clicks where transaction_id = ?');
  const add = (time: string, dimensions: RollupDimensions, sums: RollupSums) => {
    const buckets: Record<Grain, string> = { quarter: bucketOf(time, 'quarter'), hour: bucketOf(time, 'hour'), day: bucketOf(time, 'day') };
    for (const { cube, keys, upsert } of cubes) {
      const values: (string | number)[] = [];
      for (const key of keys) values.push(key === 'bucket' ? buckets[cube.grain] : dimensions[key as RollupDimension]);
      for (const column of ROLLUP_SUM_COLUMNS) values.push(sums[column]);
      upsert.run(values);
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
