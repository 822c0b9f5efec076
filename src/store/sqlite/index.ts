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
}

export const DATABASE_FILE = 'switchyard.db';

/** Opens (creating if needed) the embedded database in `dataDir`, in WAL mode, and migrates it. */
export async function openSqliteStore(options: SqliteOptions): Promise<Store> {
  fs.mkdirSync(options.dataDir, { recursive: true });
  const database = new Database(path.join(options.dataDir, DATABASE_FILE));
  database.pragma('journal_mode = WAL');
  database.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  const db: Db = new Kysely({ dialect: new ImmediateSqliteDialect({ database }) });
  await migrate(db, sqliteTraits);
  const store = createSqlStore(db, options.clock ?? (() => new Date()));
  const reports = openThreadedReportReader(path.join(options.dataDir, DATABASE_FILE));
  return {
    ...store,
    reports,
    async close() {
      await reports.close();
      await store.close();
    },
  };
}
