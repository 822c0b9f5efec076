import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError, loadConfig } from './config/index.js';
import { rebuildRollups } from './ingest/sqlite-rollups.js';
import { DATABASE_FILE, openSqliteStore } from './store/sqlite/index.js';

/**
 * `npm run rebuild-aggregates`: recomputes every report rollup cube of `DATA_DIR` from raw clicks and
 * conversions in one transaction. Best run with the server stopped: the rebuild holds the write lock,
 * and a running server's click batches fail once they have waited past their busy timeout.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  // A mistyped DATA_DIR would otherwise get a new, empty database and a report of success.
  if (!fs.existsSync(path.join(config.dataDir, DATABASE_FILE))) throw new ConfigError(`DATA_DIR=${config.dataDir} holds no Switchyard database (${DATABASE_FILE})`);
  // Opening the store first applies any pending migration, so the rollup table exists.
  await (await openSqliteStore({ dataDir: config.dataDir, synchronous: config.sqliteSynchronous })).close();
  const db = new Database(path.join(config.dataDir, DATABASE_FILE));
  try {
    db.pragma('busy_timeout = 5000');
    const startedMs = performance.now();
    const { rows } = rebuildRollups(db);
    const summary = Object.entries(rows).map(([table, n]) => `${table}=${n}`).join(' ');
    process.stdout.write(`rebuilt every rollup cube in ${Math.round(performance.now() - startedMs)} ms; rows: ${summary}\n`);
  } finally {
    db.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(err instanceof ConfigError ? `${err.message}\n` : `rebuild failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
