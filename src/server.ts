import type { FastifyInstance } from 'fastify';
import type { Config } from './config/index.js';
import { openContextBuilder } from './context/index.js';
import { buildApp } from './http/app.js';
import { openSqliteClickWriter } from './ingest/index.js';
import { Metrics } from './observability/metrics.js';
import type { ClickWriter } from './ports/click-writer.js';
import type { ConversionWriter } from './ports/conversion-writer.js';
import type { Store } from './ports/store.js';
import { openSqliteStore } from './store/sqlite/index.js';

export interface Server {
  app: FastifyInstance;
  store: Store;
  clickWriter: ClickWriter;
  /** The same writer thread as clicks (one queue, one commit per batch). */
  conversionWriter: ConversionWriter;
  /** Stops accepting requests, lets in-flight clicks finish, flushes the click log, closes storage. */
  close(): Promise<void>;
}

/**
 * The composition root: the only place that chooses concrete adapters (today the embedded SQLite
 * store and its click writer). main.ts and the tests both start Switchyard through here.
 */
export async function openServer(config: Config): Promise<Server> {
  const store = await openSqliteStore({ dataDir: config.dataDir, synchronous: config.sqliteSynchronous });
  const metrics = new Metrics();
  let app: FastifyInstance | undefined;
  const clickWriter = await openSqliteClickWriter({
    dataDir: config.dataDir,
    synchronous: config.sqliteSynchronous,
    batchMax: config.clickBatchMax,
    batchWaitMs: config.clickBatchWaitMs,
    onBatch: (size, commitMs) => {
      metrics.batchSize.observe(size);
      metrics.commitDuration.observe(commitMs / 1000);
    },
    onError: (err) => app?.log.error({ err }, 'click writer failure'),
  });
  const contexts = await openContextBuilder({ cityDbPath: config.geoipDb });
  app = await buildApp({ config, store, clickWriter, conversionWriter: clickWriter, contexts, metrics });
  const server = app;
  return {
    app: server,
    store,
    clickWriter,
    conversionWriter: clickWriter,
    async close() {
      // close() ends only idle keep-alive connections; one still carrying a click goes idle after
      // its answer and would otherwise hold shutdown open until the keep-alive timeout.
      const closing = server.close();
      const sweep = setInterval(() => server.server.closeIdleConnections(), 25);
      try {
        await closing;
      } finally {
        clearInterval(sweep);
      }
      await clickWriter.close();
      await store.close();
    },
  };
}
