import { ConfigError, loadConfig } from './config/index.js';
import { bootstrapAdminKey } from './http/auth.js';
import { buildApp } from './http/app.js';
import { openSqliteStore } from './store/sqlite/index.js';

/** Composition root: the only place that chooses concrete adapters. */
async function main(): Promise<void> {
  const config = loadConfig();
  const store = await openSqliteStore({ dataDir: config.dataDir, synchronous: config.sqliteSynchronous });
  const app = await buildApp({ config, store });

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
