import type { MessagePort, Worker } from 'node:worker_threads';
import type { ClickRecord } from '../domain/click.js';
import type { ClickWriter, ClickWriterObserver } from '../ports/click-writer.js';
import type { ConversionWrite, ConversionWriteResult, ConversionWriter } from '../ports/conversion-writer.js';
import type { FromCheckpointer, FromWriter, WriteItem } from './sqlite-writer-protocol.js';

/**
 * An error thrown in a thread reaches this one structured-cloned: a plain Error keeps its message,
 * other classes (SqliteError) arrive as bare objects. Either way the caller gets a readable Error.
 */
export function threadError(thread: string, value: unknown): Error {
  if (value instanceof Error && value.message) return value;
  return new Error(`${thread} failed: ${JSON.stringify(value)}`);
}

/** What an acknowledged write resolves with: a conversion's result, nothing for a click. */
type Acknowledgement = ConversionWriteResult | undefined;

interface Pending {
  promise: Promise<Acknowledgement>;
  resolve: (ack: Acknowledgement) => void;
  reject: (err: Error) => void;
}

function pendingWrite(): Pending {
  let resolve: (ack: Acknowledgement) => void = () => {};
  let reject: (err: Error) => void = () => {};
  const promise = new Promise<Acknowledgement>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const ignoreAck = (): void => undefined;

/**
 * Writes in the outbox that are shipped at once, without waiting for the end of the event loop's
 * turn. Under load one turn parses dozens of requests; holding all of them back leaves the writer
 * idle meanwhile, then leaves this thread idle while the writer commits them all, so the two
 * threads take turns instead of working side by side. Shipping every few writes lets the writer
 * start a commit while this thread still routes the rest (bench/redirect: ~8 % more clicks per
 * second at 64 connections, batches of ~21 instead of ~34).
 */
const OUTBOX_SEND_AT = 8;

function conversionResult(ack: Acknowledgement): ConversionWriteResult {
  if (ack === undefined) throw new Error('the writer acknowledged a conversion without its result');
  return ack;
}

/** How often, while commits fail, the writer is asked to try a test commit. */
export const PROBE_INTERVAL_MS = 1_000;

/**
 * The main thread's half of the SQLite writer: assigns each write (click or conversion) a sequence
 * number, ships writes to the writer thread and settles them from its acknowledgements. It never
 * touches the database itself, so no commit or fsync ever runs on the event loop.
 */
export class SqliteWriterClient implements ClickWriter, ConversionWriter {
  private nextSeq = 0;
  private readonly pending = new Map<number, Pending>();
  private outbox: WriteItem[] = [];
  private outboxFirstSeq = 0;
  private failure: Error | undefined;
  /** Why the latest commit failed, until a commit (or a probe's test commit) succeeds. */
  private commitFailure: string | null = null;
  /** Asks the writer for test commits while commitFailure stands. */
  private probing: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private stopRequested = false;

  constructor(
    private readonly writer: Worker,
    private readonly port: MessagePort,
    private readonly checkpointer: Worker,
    private readonly observer: ClickWriterObserver,
  ) {
    port.on('message', (message: FromWriter) => this.onMessage(message));
    writer.on('error', (err) => this.fail(threadError('click writer thread', err)));
    writer.on('exit', (code) => {
      if (!this.stopRequested) this.fail(new Error(`click writer thread exited with code ${code}`));
    });
    checkpointer.on('message', (message: FromCheckpointer) =>
      observer.onError?.(new Error(`WAL checkpoint failed: ${message.message}`)),
    );
    checkpointer.on('error', (err) => observer.onError?.(threadError('WAL checkpointer thread', err)));
  }

  get queueDepth(): number {
    return this.pending.size;
  }

  get problem(): string | null {
    return this.failure?.message ?? this.commitFailure;
  }

  /**
   * A node reported unready gets no clicks from its load balancer, so no click would ever show that
   * the cause of a failed commit (a lock held elsewhere, a full disk) is gone: the writer tries a
   * test commit every PROBE_INTERVAL_MS until one succeeds.
   */
  private setCommitFailure(message: string | null): void {
    this.commitFailure = message;
    if (message === null) {
      clearInterval(this.probing);
      this.probing = undefined;
    } else if (this.probing === undefined && !this.closing) {
      this.probing = setInterval(() => this.port.postMessage({ kind: 'probe' }), PROBE_INTERVAL_MS);
      this.probing.unref();
    }
  }

  write(click: ClickRecord): Promise<void> {
    return this.enqueue({ type: 'click', click }).then(ignoreAck);
  }

  /** Conversions share the clicks' queue and commits: one writer, one order, one fsync per batch. */
  writeConversion(write: ConversionWrite): Promise<ConversionWriteResult> {
    return this.enqueue({ type: 'conversion', write }).then(conversionResult);
  }

  private enqueue(item: WriteItem): Promise<Acknowledgement> {
    if (this.closing) return Promise.reject(new Error('click writer is closed'));
    if (this.failure) return Promise.reject(this.failure);
    const seq = this.nextSeq++;
    const write = pendingWrite();
    this.pending.set(seq, write);
    if (this.outbox.length === 0) {
      this.outboxFirstSeq = seq;
      // Writes issued in the same turn of the event loop travel in one message: one structured clone
      // and one wake-up of the writer instead of one per write.
      setImmediate(() => this.sendOutbox());
    }
    this.outbox.push(item);
    if (this.outbox.length >= OUTBOX_SEND_AT) this.sendOutbox();
    return write.promise;
  }

  async flush(): Promise<void> {
    this.sendOutbox();
    await Promise.allSettled([...this.pending.values()].map((write) => write.promise));
  }

  close(): Promise<void> {
    this.closing ??= this.drainAndStop();
    return this.closing;
  }

  private async drainAndStop(): Promise<void> {
    clearInterval(this.probing);
    await this.flush();
    // Nothing is pending now and nothing new is accepted, so the thread's exit is expected.
    this.stopRequested = true;
    const exited = (worker: Worker) => new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const stopped = Promise.all([exited(this.writer), exited(this.checkpointer)]);
    this.port.postMessage({ kind: 'close' });
    this.checkpointer.postMessage({ kind: 'close' });
    // A writer thread that already died cannot answer; terminate() settles at once in that case.
    await (this.failure ? Promise.all([this.writer.terminate(), this.checkpointer.terminate()]) : stopped);
    this.port.close();
  }

  private sendOutbox(): void {
    if (this.outbox.length === 0 || this.failure) return;
    this.port.postMessage({ kind: 'write', firstSeq: this.outboxFirstSeq, items: this.outbox });
    this.outbox = [];
  }

  private onMessage(message: FromWriter): void {
    if (message.kind === 'failed') {
      // With SQLite's code, so a conversion refused for a lock held elsewhere answers 503 unavailable
      // (nothing written: send it again), as an API write does, not 500 internal.
      const err = Object.assign(new Error(`click batch commit failed: ${message.message}`), message.code === undefined ? {} : { code: message.code });
      this.setCommitFailure(err.message);
      this.settle(message.fromSeq, message.toSeq, () => err);
      this.observer.onError?.(err);
    } else if (message.kind === 'committed') {
      this.setCommitFailure(null);
      const rejected = new Map(message.rejected.map((r) => [r.seq, r.message]));
      const results = new Map(message.conversions.map((c) => [c.seq, c.result]));
      this.settle(
        message.fromSeq,
        message.toSeq,
        (seq) => {
          const reason = rejected.get(seq);
          return reason === undefined ? undefined : new Error(`not stored: ${reason}`);
        },
        (seq) => results.get(seq),
      );
      this.observer.onBatch?.(message.toSeq - message.fromSeq + 1, message.commitMs);
    } else if (message.kind === 'checkpoint-failed') {
      this.observer.onError?.(new Error(`WAL checkpoint failed: ${message.message}`));
    } else if (message.kind === 'probed' && this.commitFailure !== null) {
      this.setCommitFailure(message.failure);
    }
  }

  private settle(
    fromSeq: number,
    toSeq: number,
    errorOf: (seq: number) => Error | undefined,
    ackOf: (seq: number) => Acknowledgement = () => undefined,
  ): void {
    for (let seq = fromSeq; seq <= toSeq; seq++) {
      const write = this.pending.get(seq);
      if (!write) continue;
      this.pending.delete(seq);
      const err = errorOf(seq);
      if (err) write.reject(err);
      else write.resolve(ackOf(seq));
    }
  }

  /** The writer thread is gone: nothing pending can be acknowledged any more, so all of it rejects. */
  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.outbox = [];
    for (const write of this.pending.values()) write.reject(err);
    this.pending.clear();
    this.observer.onError?.(err);
  }
}
