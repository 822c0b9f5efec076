import type { ClickRecord } from '../domain/click.js';

/**
 * The durable click log (SPEC §12.1). A click's redirect is sent only after `write` resolved, so
 * `write` must never resolve before the click is committed to the configured durability level.
 * Implementations batch concurrent writes into one commit (group commit).
 */
export interface ClickWriter {
  /**
   * Resolves once the click is committed durably; rejects when it is not (commit failed, writer
   * stopped or closed, duplicate transaction id). A rejected click may or may not be stored.
   */
  write(click: ClickRecord): Promise<void>;
  /** Resolves once every write issued before the call has settled (resolved or rejected). */
  flush(): Promise<void>;
  /** Refuses new writes, drains every pending one, then releases the database. Idempotent. */
  close(): Promise<void>;
  /** Writes issued but not yet settled: the queue depth exported as a metric. */
  readonly queueDepth: number;
  /**
   * Why clicks cannot be stored now, or null: the writer is gone, or its latest commit failed (a
   * full disk, a write lock held elsewhere) and none has succeeded since, its own test commits
   * included. Readiness reports it.
   */
  readonly problem: string | null;
}

/** Hooks for metrics and logs; called on the caller's thread, never on the commit path. */
export interface ClickWriterObserver {
  /** After each committed batch: how many clicks it held and how long the commit took. */
  onBatch?: (size: number, commitMs: number) => void;
  /**
   * An infrastructure failure: a failed commit, the writer's thread dying, a failed checkpoint.
   * Writes affected by it reject as well; this hook exists so the failure is logged even when
   * nothing was waiting.
   */
  onError?: (err: Error) => void;
}
