import type { MessagePort } from 'node:worker_threads';
import type { ClickRecord } from '../domain/click.js';
import type { ConversionWrite, ConversionWriteResult } from '../ports/conversion-writer.js';

/** The SQLite connection settings both background threads open their connection with. */
export interface SqliteConnectionSettings {
  file: string;
  synchronous: 'full' | 'normal';
  busyTimeoutMs: number;
}

/** What the writer thread is started with. */
export interface WriterWorkerData extends SqliteConnectionSettings {
  batchMax: number;
  batchWaitMs: number;
  /** The thread's end of the channel; the main thread keeps the other end. */
  port: MessagePort;
  /** Where the checkpointer asks the writer to finish a checkpoint it cannot complete alone ('catch-up'), and the writer answers 'done'. */
  checkpointPort: MessagePort;
  /** The same WAL limit as the checkpointer's: past it the writer also finishes a checkpoint unasked. */
  walLimitPages: number;
}

/** One write the writer thread commits: a click, or a conversion with its partner postback. */
export type WriteItem = { type: 'click'; click: ClickRecord } | { type: 'conversion'; write: ConversionWrite };

/**
 * Main → writer. Sequence numbers are assigned in write order and every chunk carries a contiguous
 * run of them, so a batch taken from the front of the queue is always a contiguous range.
 */
export type ToWriter =
  | { kind: 'write'; firstSeq: number; items: WriteItem[] }
  /** After a failed commit: whether a commit would succeed now, answered by `probed`. */
  | { kind: 'probe' }
  | { kind: 'close' };

/** Writer → main. */
export type FromWriter =
  | { kind: 'ready' }
  /**
   * Every seq in [fromSeq, toSeq] is committed except those listed in `rejected`; each conversion's
   * seq is listed in `conversions` with whether it was new or a duplicate.
   */
  | {
      kind: 'committed';
      fromSeq: number;
      toSeq: number;
      commitMs: number;
      rejected: { seq: number; message: string }[];
      conversions: { seq: number; result: ConversionWriteResult }[];
    }
  /**
   * The batch's transaction failed: nothing in [fromSeq, toSeq] is acknowledged. `code` is SQLite's
   * (SQLITE_BUSY: the write lock was held elsewhere past the busy timeout).
   */
  | { kind: 'failed'; fromSeq: number; toSeq: number; message: string; code?: string }
  /** A checkpoint the writer ran between batches failed; clicks are unaffected, the WAL keeps growing. */
  | { kind: 'checkpoint-failed'; message: string }
  /** The answer to a probe: null when a test commit succeeded, else why it failed. */
  | { kind: 'probed'; failure: string | null };

export interface CheckpointWorkerData extends SqliteConnectionSettings {
  intervalMs: number;
  /** WAL length, in pages, past which an incomplete checkpoint is handed to the writer to finish. */
  walLimitPages: number;
  /** The other end of the writer's `checkpointPort`. */
  writerPort: MessagePort;
}

/** Checkpointer → main: a checkpoint failed (the WAL keeps growing until one succeeds). */
export interface FromCheckpointer {
  kind: 'error';
  message: string;
}
