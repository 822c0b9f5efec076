import type { FastifyInstance } from 'fastify';
import { ConfigError, type Config } from './config/index.js';
import { openContextBuilder } from './context/index.js';
import { buildApp } from './http/app.js';
import { openSqliteClickWriter } from './ingest/index.js';
import { KpiScheduler } from './kpi/index.js';
import { createSnapshotHolder } from './live/snapshot-holder.js';
import { MemoryLiveState, prepareCapPeriods, prepareVisitorMemory, rebuildLiveState } from './live/state/index.js';
import { Metrics } from './observability/metrics.js';
import type { ClickWriter } from './ports/click-writer.js';
import type { ConversionWriter } from './ports/conversion-writer.js';
import type { Store } from './ports/store.js';
import { currentPostbackUrl } from './conversions/index.js';
import { SafeHttpClient } from './outbound/index.js';
import { PostbackDispatcher } from './outbox/index.js';
import { openSqliteStore } from './store/sqlite/index.js';
import { openSqliteOutbox } from './store/sqlite/outbox.js';

/** Hooks for tests; production passes none. */
export interface ServerOptions {
  /**
   * The clock of clicks, conversions, explain and the live state's periods and windows, so tests
   * can travel in time instead of sleeping. Date.now by default.
   */
  now?: () => number;
}

/** How often the live state forgets past periods and expired duplicate windows. */
const LIVE_STATE_PRUNE_MS = 60_000;

export interface Server {
  app: FastifyInstance;
  store: Store;
  clickWriter: ClickWriter;
  /** The same writer thread as clicks (one queue, one commit per batch). */
  conversionWriter: ConversionWriter;
  /** Runs KPI optimisation on schedule; `tick()` runs one tick now (tests). */
  kpiScheduler: KpiScheduler;
  /** Forgets expired periods and duplicate windows now, as the minute timer does (tests). */
  pruneLiveState(): void;
  /** Stops accepting requests, lets in-flight clicks finish, flushes the click log, closes storage. */
  close(): Promise<void>;
}

/** Partner postbacks leave from the durable outbox, on their own connection and timer. */
async function startPostbackDispatcher(config: Config, metrics: Metrics, app: FastifyInstance, store: Store) {
  const outbox = await openSqliteOutbox({ dataDir: config.dataDir, synchronous: config.sqliteSynchronous });
  if (config.postbackAllowLoopback) app.log.warn('POSTBACK_ALLOW_LOOPBACK=1: partner postbacks may reach loopback addresses (tests only)');
  const client = new SafeHttpClient({ allowLoopback: config.postbackAllowLoopback });
  // Logs carry ids only, never the URL: partners put their own keys in postback URLs.
  const dispatcher = new PostbackDispatcher({
    repo: outbox,
    send: (url) => client.get(url),
    currentUrl: (postback) => currentPostbackUrl(store, postback),
    concurrency: Math.max(1, config.postbackConcurrency),
    onDelivered: () => metrics.postbacks.inc({ outcome: 'delivered' }),
    onRetry: (postback, error, delayMs) => {
      metrics.postbacks.inc({ outcome: 'retried' });
      app.log.info({ postback_id: postback.id, conversion_id: postback.conversion_id, attempts: postback.attempts, error, delayMs }, 'partner postback will be retried');
    },
    onFailed: (postback, error) => {
      metrics.postbacks.inc({ outcome: 'failed' });
      app.log.warn({ postback_id: postback.id, conversion_id: postback.conversion_id, attempts: postback.attempts, error }, 'partner postback failed');
    },
    onLeaseLost: (postback) => app.log.warn({ postback_id: postback.id }, 'partner postback lease lost to another dispatcher'),
    onError: (err) => app.log.error({ err }, 'partner postback dispatcher failure'),
  });
  metrics.readPostbackQueueDepth = () => outbox.depth();
  return {
    start() {
      if (config.postbackConcurrency > 0) dispatcher.start();
    },
    async close() {
      await dispatcher.close();
      await outbox.close();
    },
  };
}

/** How long shutdown waits for requests still in flight before cutting their connections. */
export const SHUTDOWN_GRACE_MS = 5_000;

/**
 * The composition root: the only place that chooses concrete adapters (today the embedded SQLite
 * store and its click writer). main.ts and the tests both start Switchyard through here.
 */
export async function openServer(config: Config, options: ServerOptions = {}): Promise<Server> {
  const now = options.now ?? Date.now;
  let migrated: readonly string[] = [];
  const onMigrated = (names: readonly string[]): void => {
    migrated = names;
  };
  const store = await openSqliteStore({ dataDir: config.dataDir, synchronous: config.sqliteSynchronous, onMigrated }).catch((err: unknown) => {
    // A directory it may not write, a file that is not a database, one from a newer version: the
    // operator is told which directory, not shown a stack trace from inside the driver.
    throw new ConfigError(`Switchyard cannot use its database in DATA_DIR=${config.dataDir}: ${err instanceof Error ? err.message : String(err)}`);
  });
  const metrics = new Metrics();
  let app: FastifyInstance | undefined;
  // Configuration changes arrive only once the server is up, after `live` exists.
  // A caps time zone change is recounted, and the visitors a new duplicate identifier or a longer
  // window needs are read, while the previous configuration serves; counters and memory switch with
  // it: clicks served under the new configuration before its reads finished would pass a reached cap
  // or a visitor who clicked within the window. The last hour of each is read last, with no turn for
  // a click between those reads and the switch.
  const snapshots = await createSnapshotHolder(store, async (previous, next) => {
    const memory = await prepareVisitorMemory(live, store.liveHistory, previous, next, now());
    const caps = await prepareCapPeriods(live, store.liveHistory, previous, next, now);
    const remember = await memory.finish();
    return () => {
      caps?.();
      remember();
    };
  });
  const live = new MemoryLiveState({
    snapshot: () => snapshots.current(),
    // After a restart the first click past a reached soft cap asks again; the stored notification's
    // unique key answers whether this is news, so it is logged and counted once per period.
    onNotification: (notification, dedupeKey) => {
      store.notifications.insert(notification, dedupeKey).then(
        (stored) => {
          if (!stored) return;
          app?.log.warn({ notification }, 'soft cap reached');
          metrics.capNotifications.inc({ scope: notification.scope, metric: notification.metric, period: notification.period });
        },
        (err: unknown) => app?.log.error({ err, notification }, 'notification could not be stored'),
      );
    },
  });
  // Before any click is served: counters and memory as the stored clicks and conversions imply.
  await rebuildLiveState(live, store.liveHistory, snapshots.current(), now());
  const pruning = setInterval(() => live.prune(now()), LIVE_STATE_PRUNE_MS);
  pruning.unref();
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
  const contexts = await openContextBuilder({ cityDbPath: config.geoipDb }).catch((err: unknown) => {
    // Only the database named by GEOIP_DB can fail to open; the bundled one is part of the install.
    throw new ConfigError(`invalid configuration:\n  GEOIP_DB: cannot open ${config.geoipDb} as a MaxMind database (${err instanceof Error ? err.message : String(err)})`);
  });
  app = await buildApp({ config, store, clickWriter, conversionWriter: clickWriter, contexts, metrics, snapshots, live, now });
  const server = app;
  // An upgrade's schema changes are named in the log, so an operator can tell what a start changed.
  if (migrated.length > 0) server.log.info({ migrations: migrated, data_dir: config.dataDir }, `database migrated: ${migrated.join(', ')}`);
  const postbacks = await startPostbackDispatcher(config, metrics, server, store);
  const kpiScheduler = new KpiScheduler({ store, snapshots, now, intervalMs: config.kpiSchedulerIntervalMs, log: server.log });
  // Background work begins once the server listens. A start that fails there (the port taken by the
  // instance already running on this DATA_DIR) claimed every due partner postback, used up one of
  // its attempts and held it under a lease for a minute, without sending it, before exiting.
  server.addHook('onListen', async () => {
    postbacks.start();
    kpiScheduler.start();
  });
  return {
    app: server,
    store,
    clickWriter,
    conversionWriter: clickWriter,
    kpiScheduler,
    pruneLiveState: () => live.prune(now()),
    async close() {
      // close() ends only idle keep-alive connections; one still carrying a click goes idle after
      // its answer and would otherwise hold shutdown open until the keep-alive timeout.
      clearInterval(pruning);
      const closing = server.close();
      const sweep = setInterval(() => server.server.closeIdleConnections(), 25);
      // A client that stalls halfway through its request (a slow link, a slowloris) would hold
      // shutdown open for as long as it likes; past the grace period its connection is cut. Every
      // click already answered is stored: nothing acknowledged is lost.
      const cutOff = setTimeout(() => server.server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      try {
        await closing;
      } finally {
        clearInterval(sweep);
        clearTimeout(cutOff);
      }
      await kpiScheduler.close();
      await postbacks.close();
      await clickWriter.close();
      await store.close();
    },
  };
}
