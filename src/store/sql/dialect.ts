import type { Kysely, Transaction } from 'kysely';

/**
 * What differs between the SQL databases we run on. Shared code reads these flags; it never asks
 * which database it is talking to.
 */
export interface SqlDialectTraits {
  /** Column definition of an auto-incrementing integer primary key. */
  readonly autoIncrementPrimaryKey: string;
  /** Column type of a 64-bit integer. */
  readonly bigint: string;
  /**
   * Appended to `create table` of a table whose rows should be stored in primary-key order (SQLite's
   * `without rowid`), so range scans over the key read consecutive pages; '' where unsupported.
   */
  readonly clusteredTableSuffix: string;
}

/** The tables are declared per query with `sql`; Kysely is used for its drivers, dialects and migrator. */
export type Db = Kysely<Record<string, never>>;
export type Executor = Db | Transaction<Record<string, never>>;

/** The clock the store stamps records with; injected so tests can control it. */
export type Clock = () => Date;
