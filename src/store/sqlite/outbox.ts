import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely } from 'kysely';
import type { OutboxRepo } from '../../ports/outbox.js';
import type { Db } from '../sql/dialect.js';
import { sqlOutboxRepo } from '../sql/outbox-repo.js';
import { ImmediateSqliteDialect } from './immediate-dialect.js';
import { DATABASE_FILE, MAIN_THREAD_AUTOCHECKPOINT, MAIN_THREAD_BUSY_TIMEOUT_MS } from './index.js';

export interface SqliteOutboxOptions {
  dataDir: string;
  synchronous: 'full' | 'normal';
}

export interface OpenedOutbox extends OutboxRepo {
  /** Releases the connection; call after the dispatcher using it has closed. */
  close(): Promise<void>;
}

/**
 * The outbox of the embedded database, on its own connection (the Store keeps its handle to
 * itself, and the click writer has its own as well). The schema must already be migrated: open
 * the store first.
 */
export async function openSqliteOutbox(options: SqliteOutboxOptions): Promise<OpenedOutbox> {
  const file = path.join(options.dataDir, DATABASE_FILE);
  if (!fs.existsSync(file)) throw new Error(`no database at ${file}: open the store (which migrates it) first`);
  const database = new Database(file);
  database.pragma('journal_mode = WAL');
  database.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  // Its writes run on the main thread: see MAIN_THREAD_BUSY_TIMEOUT_MS.
  database.pragma(`busy_timeout = ${MAIN_THREAD_BUSY_TIMEOUT_MS}`);
  database.pragma(`wal_autocheckpoint = ${MAIN_THREAD_AUTOCHECKPOINT}`);
  const table = database.prepare(`select 1 from sqlite_master where type = 'table' and name = 'partner_postbacks'`).get();
  if (!table) {
    database.close();
    throw new Error('table partner_postbacks is missing: open the store (which migrates it) first');
  }
  const db: Db = new Kysely({ dialect: new ImmediateSqliteDialect({ database }) });
  return { ...sqlOutboxRepo(db), close: () => db.destroy() };
}
