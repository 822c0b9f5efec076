import type Database from 'better-sqlite3';
import type { RollupDimension } from '../domain/report.js';
import type { ClickRow } from '../store/sql/click-row.js';
import type { NewConversionRow } from '../store/sql/conversion-row.js';
import {
  bucketOf, clickDimensions, clickSums, conversionSums, cubeKeyColumns, cubeUpsertSql, ROLLUP_CUBES, ROLLUP_KEY_COLUMNS, ROLLUP_REBUILD_SQL,
  ROLLUP_SUM_COLUMNS, type RollupDimensions, type RollupSums,
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

/** Sums staged under one key: the key's column values in order, and the sums in ROLLUP_SUM_COLUMNS order. */
interface Staged {
  values: (string | number)[];
  sums: number[];
}

/** The dimensions of the finest cube, report_rollups: every other cube is a projection of them. */
const FINE_DIMENSIONS = ROLLUP_KEY_COLUMNS.filter((c): c is RollupDimension => c !== 'bucket');

/** Adds `sums` into the entry of `staged` under `values` (JSON keeps the key unambiguous whatever text a sub id holds). */
function stage(staged: Map<string, Staged>, values: (string | number)[], sums: readonly number[]): void {
  const id = JSON.stringify(values);
  const found = staged.get(id);
  if (found === undefined) staged.set(id, { values, sums: [...sums] });
  else sums.forEach((amount, i) => (found.sums[i] = (found.sums[i] ?? 0) + amount));
}

/**
 * Compiles the rollup statements of the writer thread (and of the report benchmark's bulk load).
 * A row is staged once, under its quarter bucket and every dimension (the finest cube's key); the
 * cubes are projected from those sums at flush. Staging per batch matters: clicks of one batch
 * mostly share their link, entry and hour, so a batch of 64 clicks needs far fewer than 64 upserts
 * per coarse cube (each costs ~3–7 µs), and projecting each distinct row once instead of each click
 * eight times took most of the writer's per-click work off it.
 */
export function prepareRollups(db: Database.Database): RollupUpdater {
  const cubes = ROLLUP_CUBES.map((cube) => ({
    grain: cube.grain,
    // Where each of the cube's key columns sits in a fine row's values: 0 is the bucket.
    positions: cubeKeyColumns(cube).map((key) => (key === 'bucket' ? 0 : FINE_DIMENSIONS.indexOf(key as RollupDimension) + 1)),
    upsert: db.prepare(cubeUpsertSql(cube)),
  }));
  const clickOf = db.prepare<[string], ClickRow>('select * from clicks where transaction_id = ?');
  /** The batch's sums by [quarter bucket, ...FINE_DIMENSIONS values]. */
  const fine = new Map<string, Staged>();
  const add = (time: string, dimensions: RollupDimensions, sums: RollupSums) => {
    const values: (string | number)[] = [bucketOf(time, 'quarter')];
    for (const dimension of FINE_DIMENSIONS) values.push(dimensions[dimension]);
    stage(fine, values, ROLLUP_SUM_COLUMNS.map((column) => sums[column]));
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
      const rows = [...fine.values()];
      fine.clear();
      for (const { grain, positions, upsert } of cubes) {
        const staged = new Map<string, Staged>();
        for (const { values, sums } of rows) {
          const bucket = bucketOf(String(values[0]), grain);
          stage(staged, positions.map((at) => (at === 0 ? bucket : (values[at] ?? ''))), sums);
        }
        for (const { values, sums } of staged.values()) upsert.run([...values, ...sums]);
      }
    },
    discard() {
      fine.clear();
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
