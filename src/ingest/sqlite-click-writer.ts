import path from 'node:path';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { ClickWriter, ClickWriterObserver } from '../ports/click-writer.js';
import type { ConversionWriter } from '../ports/conversion-writer.js';
import { DATABASE_FILE } from '../store/sqlite/index.js';
import { SqliteWriterClient, threadError } from './sqlite-writer-client.js';
import type { CheckpointWorkerData, SqliteConnectionSettings, WriterWorkerData } from './sqlite-writer-protocol.js';
import { workerUrl } from './worker-url.js';

export interface SqliteClickWriterOptions extends ClickWriterObserver {
  /** Where the store keeps its database; the store must have opened (and migrated) it first. */
  dataDir: string;
  synchronous: 'full' | 'normal';
  /** Most clicks committed in one transaction (CLICK_BATCH_MAX). */
  batchMax: number;
  /** How long a lone click waits for others before committing (CLICK_BATCH_WAIT_MS); 0 = never. */
  batchWaitMs: number;
  /** How long a commit waits for another connection's write lock before failing. Default 5000. */
  busyTimeoutMs?: number;
  /** How often committed pages are moved from the WAL into the database file. Default 1000. */
  checkpointIntervalMs?: number;
  /** WAL length (pages) past which the writer itself completes a checkpoint. Default 16384 (64 MiB). */
  walLimitPages?: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;
const DEFAULT_CHECKPOINT_INTERVAL_MS = 1000;
const DEFAULT_WAL_LIMIT_PAGES = 16_384;

/** Resolves when the writer thread reports ready; rejects with its startup error (e.g. no clicks table). */
function whenReady(worker: Worker, port: MessagePort): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => finish(threadError('click writer thread', err));
    const onExit = (code: number) => finish(new Error(`click writer thread exited with code ${code} while starting`));
    const onMessage = () => finish();
    function finish(err?: Error) {
      worker.off('error', onError).off('exit', onExit);
      port.off('message', onMessage);
      if (err) reject(err);
      else resolve();
    }
    worker.on('error', onError).on('exit', onExit);
    port.once('message', onMessage);
  });
}

/** The one SQLite writer: clicks and conversions share its thread, its queue and its commits. */
export type SqliteWriter = ClickWriter & ConversionWriter;

/**
 * Starts the SQLite writer: a writer thread that group-commits clicks and conversions, and a
 * checkpointer thread, each with its own connection to the store's database. Resolves once writes
 * can be sent.
 */
export async function openSqliteClickWriter(options: SqliteClickWriterOptions): Promise<SqliteWriter> {
  const connection: SqliteConnectionSettings = {
    file: path.join(options.dataDir, DATABASE_FILE),
    synchronous: options.synchronous,
    busyTimeoutMs: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
  };
  const { port1, port2 } = new MessageChannel();
  const checkpoints = new MessageChannel();
  const walLimitPages = options.walLimitPages ?? DEFAULT_WAL_LIMIT_PAGES;
  const writerData: WriterWorkerData = {
    ...connection, batchMax: options.batchMax, batchWaitMs: options.batchWaitMs, port: port2,
    checkpointPort: checkpoints.port1, walLimitPages,
  };
  const writer = new Worker(workerUrl(import.meta.url, './sqlite-writer-worker.js'), {
    workerData: writerData,
    transferList: [port2, checkpoints.port1],
  });
  try {
    await whenReady(writer, port1);
  } catch (err) {
    port1.close();
    checkpoints.port2.close();
    await writer.terminate();
    throw err;
  }
  const checkpointerData: CheckpointWorkerData = {
    ...connection,
    intervalMs: options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS,
    walLimitPages,
    writerPort: checkpoints.port2,
  };
  const checkpointer = new Worker(workerUrl(import.meta.url, './sqlite-checkpoint-worker.js'), {
    workerData: checkpointerData,
    transferList: [checkpoints.port2],
  });
  return new SqliteWriterClient(writer, port1, checkpointer, options);
}
