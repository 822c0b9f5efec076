import Database from 'better-sqlite3';
import type { SqliteConnectionSettings } from './sqlite-writer-protocol.js';

/**
 * Opens a connection for a background thread: WAL, the configured synchronous mode, and no automatic
 * checkpoints — those would run inside whichever commit crosses the threshold and stall it behind a
 * database-file fsync. The checkpointer thread does that work instead.
 */
export function openConnection(settings: SqliteConnectionSettings): Database.Database {
  const db = new Database(settings.file, { fileMustExist: true });
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${settings.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma(`busy_timeout = ${Math.trunc(settings.busyTimeoutMs)}`);
  db.pragma('wal_autocheckpoint = 0');
  return db;
}
