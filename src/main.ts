import v8 from 'node:v8';
import { ConfigError, loadConfig, publicUrlFor } from './config/index.js';
import { demoInstructions, seedDemo } from './demo.js';
import { bootstrapAdminKey, mintKey } from './http/auth.js';
import { openServer, type Server } from './server.js';

/** A second stop signal sooner than this after the first is the same request, not an insistence. */
const INSISTENCE_MS = 1_000;

/** Why the server cannot listen where it was told to, by the error's code, naming the setting to change. */
const LISTEN_PROBLEMS: Readonly<Record<string, (host: string, port: number) => string>> = {
  EADDRINUSE: (host, port) => `PORT=${port}: another process already listens there on ${host}`,
  EACCES: (_host, port) => `PORT=${port}: this user may not listen on that port (below 1024 needs privileges)`,
  EADDRNOTAVAIL: (host) => `HOST=${host}: this machine has no such address`,
  ENOTFOUND: (host) => `HOST=${host}: not an address, and no such host name resolves`,
  EAI_AGAIN: (host) => `HOST=${host}: the host name could not be resolved`,
};

async function listenOrExplain(app: Server['app'], host: string, port: number): Promise<void> {
  try {
    await app.listen({ port, host });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const problem = code === undefined ? undefined : LISTEN_PROBLEMS[code];
    if (problem !== undefined) throw new ConfigError(`Switchyard cannot listen: ${problem(host, port)}`);
    throw err;
  }
}

/** Starts Switchyard: `node dist/main.js [--demo]`. */
async function main(argv: string[]): Promise<void> {
  const config = loadConfig();
  // V8 reads this flag at every collection, so setting it before the first requests is enough.
  if (config.heapGrowingPercent > 0) v8.setFlagsFromString(`--heap-growing-percent=${config.heapGrowingPercent}`);
  const server = await openServer(config);
  const { app, store } = server;

  let stoppingSinceMs: number | null = null;
  const stop = async (signal: string) => {
    if (stoppingSinceMs !== null) {
      // Ctrl-C under `npm start` arrives twice at once (the terminal's and npm's copy): only a
      // signal sent later is the operator insisting. Every click already answered is stored.
      if (performance.now() - stoppingSinceMs < INSISTENCE_MS) return;
      app.log.warn({ signal }, 'shutting down at once');
      process.exit(1);
    }
    stoppingSinceMs = performance.now();
    app.log.info({ signal }, 'shutting down: draining in-flight clicks');
    try {
      await server.close();
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  await listenOrExplain(app, config.host, config.port);
  // Only once the server listens: a start that fails (a port in use) must not use up the one
  // showing of a generated key.
  const generatedKey = await bootstrapAdminKey(store, config.adminKey);
  if (generatedKey) {
    // Printed once, on stdout, outside the JSON log: only the hash is kept.
    process.stdout.write(`\nSwitchyard created an admin API key. It is shown only this once; keep it safe:\n\n  ${generatedKey}\n\n`);
  }
  app.log.info({ dataDir: config.dataDir, publicUrl: publicUrlFor(config, app.server.address()) }, 'Switchyard is ready');

  if (argv.includes('--demo')) {
    if ((await store.smartLinks.list({ page: 1, pageSize: 1, where: { status: 'active' } })).total > 0) {
      process.stdout.write('\nThe database already has smart links, so no demo data was added.\n');
    } else {
      // The demo needs a key it can show: the configured or just-generated one, else a fresh admin key.
      const adminKey = config.adminKey ?? generatedKey ?? (await mintKey(store, 'admin', null)).key;
      process.stdout.write(demoInstructions(await seedDemo(app, adminKey), adminKey));
    }
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    process.stderr.write(`Switchyard failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
