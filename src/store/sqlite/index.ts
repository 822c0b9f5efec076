import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely } from 'kysely';
import type { Store } from '../../ports/store.js';
import type { Clock, Db, SqlDialectTraits } from '../sql/dialect.js';
import { createSqlStore, migrate } from '../sql/sql-store.js';
import { ImmediateSqliteDialect } from './immediate-dialect.js';
import { openThreadedReportReader } from './threaded-report-reader.js';

export const sqliteTraits: SqlDialectTraits = {
  autoIncrementPrimaryKey: 'integer primary key autoincrement',
  bigint: 'integer',
  clusteredTableSuffix: ' without rowid',
};

export interface SqliteOptions {
  dataDir: string;
  synchronous: 'full' | 'normal';
  clock?: Clock;
  /** Told the migrations this start ran, in order (none on an up-to-date database). */
  onMigrated?: (names: readonly string[]) => void;
}

export const DATABASE_FILE = 'switchyard.db';

/**
 * How long a write on a main-thread connection (configuration, KPI lease, postback outbox) waits for
 * the write lock. better-sqlite3 waits synchronously: the event loop stands still meanwhile, so every
 * request (clicks, /healthz, /readyz) waits too. The click writer's commits hold the lock for
 * milliseconds, and while this thread waits it sends the writer no new clicks, so the lock comes
 * free well within this; a lock held elsewhere (an operator's sqlite3, rebuild-aggregates) fails the
 * write fast instead of freezing the server for seconds at every KPI tick and postback poll.
 */
export const MAIN_THREAD_BUSY_TIMEOUT_MS = 250;

/**
 * Main-thread connections never checkpoint. SQLite's automatic checkpoint runs inside whichever
 * commit finds the log past 1,000 pages, and under click load it nearly always is: a configuration
 * write or a postback outcome then copied megabytes into the database file, with an fsync, while
 * clicks waited. The click writer's checkpointer thread keeps the log short instead (src/ingest).
 */
export const MAIN_THREAD_AUTOCHECKPOINT = 0;

/** Migrations may wait longer: nothing is served yet, and another process may be migrating. */
const MIGRATION_BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating if needed) the embedded database in `dataDir`, in WAL mode, and migrates it.
 * What it creates only its owner may read: the database holds the redirect signing key, partners'
 * postback URLs with their credentials and visitors' addresses (SQLite gives its -wal and -shm files
 * the database's mode). Existing files and directories keep the mode their operator gave them.
 */
export async function openSqliteStore(options: SqliteOptions): Promise<Store> {
  fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(options.dataDir, DATABASE_FILE);
  // An empty file is an empty database; made here, it is made with the owner's mode only.
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  const database = new Database(file);
  database.pragma('journal_mode = WAL');
  database.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  database.pragma(`busy_timeout = ${MIGRATION_BUSY_TIMEOUT_MS}`);
  database.pragma('foreign_keys = ON');
  const db: Db = new Kysely({ dialect: new ImmediateSqliteDialect({ database }) });
  // Migrated first, told after: an optional call would skip evaluating its argument, and so the migration.
  const migrated = await migrate(db, sqliteTraits);
  options.onMigrated?.(migrated);
  database.pragma(`busy_timeout = ${MAIN_THREAD_BUSY_TIMEOUT_MS}`);
  database.pragma(`wal_autocheckpoint = ${MAIN_THREAD_AUTOCHECKPOINT}`);
  const store = createSqlStore(db, options.clock ?? (() => new Date()));
  const reports = openThreadedReportReader(file);
  return {
    ...store,
    reports,
    async close() {
      await reports.close();
      await store.close();
    },
  };
}
