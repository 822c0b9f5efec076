import { ConfigError, loadConfig } from './config/index.js';
import { openContextBuilder } from './context/index.js';
import { bootstrapAdminKey } from './http/auth.js';
import { buildApp } from './http/app.js';
import { createSnapshotHolder } from './live/snapshot-holder.js';
import { openSqliteStore } from './store/sqlite/index.js';

/** Composition root: the only place that chooses concrete adapters. */
async function main(): Promise<void> {
  const config = loadConfig();
  const store = await openSqliteStore({ dataDir: config.dataDir, synchronous: config.sqliteSynchronous });
  const snapshots = await createSnapshotHolder(store);
  const contextBuilder = await openContextBuilder({ cityDbPath: config.geoipDb });
  const app = await buildApp({
    config,
    store,
    onChange: () => void snapshots.rebuild().catch((err: unknown) => app.log.error({ err }, 'snapshot rebuild failed')),
    engine: { settledSnapshot: () => snapshots.settled(), contextBuilder },
  });

  const generatedKey = await bootstrapAdminKey(store, config.adminKey);
  if (generatedKey) {
    // Printed once, on stdout, outside the JSON log: only the hash is kept.
    process.stdout.write(
      `\nSwitchyard created an admin API key. It is shown only this once; keep it safe:\n\n  ${generatedKey}\n\n`,
    );
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down: draining requests');
    try {
      await app.close();
      await store.close();
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  await app.listen({ port: config.port, host: config.host });
  app.log.info({ dataDir: config.dataDir, publicUrl: config.publicUrl }, 'Switchyard is ready');
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    process.stderr.write(`Switchyard failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
