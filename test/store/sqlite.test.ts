import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DATABASE_FILE, openSqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir } from '../support/api-server.js';
import { storeConformance } from './conformance.js';
import { kpiStoreConformance } from './kpi-conformance.js';

storeConformance('SQLite', () => openSqliteStore({ dataDir: tempDir(), synchronous: 'full' }));
kpiStoreConformance('SQLite', () => openSqliteStore({ dataDir: tempDir(), synchronous: 'normal' }));

describe('SQLite store transactions', () => {
  it('hold the write lock from their start, so another process\'s commit cannot invalidate what they read', async () => {
    const dataDir = tempDir();
    const store = await openSqliteStore({ dataDir, synchronous: 'normal' });
    // Another process's connection, which will not wait for a lock.
    const other = new Database(path.join(dataDir, DATABASE_FILE), { timeout: 0 });
    try {
      await store.transaction(async (tx) => {
        await tx.settings.get();
        // A DEFERRED transaction would hold only a read lock here: the other writer would get in,
        // and this transaction's first write would then fail with SQLITE_BUSY_SNAPSHOT.
        expect(() => other.exec('begin immediate')).toThrow(/database is locked/);
      });
      other.exec('begin immediate');
      other.exec('rollback');
    } finally {
      other.close();
      await store.close();
    }
  });
});
