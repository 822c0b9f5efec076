import path from 'node:path';
import Database from 'better-sqlite3';
import { DATABASE_FILE } from '../../src/store/sqlite/index.js';

/** Runs `during` while another connection (an operator's sqlite3, say) holds the database's write lock. */
export async function whileWriteLocked<T>(dataDir: string, during: () => Promise<T>): Promise<T> {
  const blocker = new Database(path.join(dataDir, DATABASE_FILE));
  try {
    blocker.exec('begin immediate');
    return await during();
  } finally {
    if (blocker.inTransaction) blocker.exec('rollback');
    blocker.close();
  }
}
