import { setTimeout as delay } from 'node:timers/promises';
import type { ClaimedPostback, OutboxRepo } from '../ports/outbox.js';
import { backoffDelayMs, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';

/** The outcome of one delivery attempt; the shape `SafeHttpClient#get` returns. */
export type SendOutcome = { ok: true; status: number } | { ok: false; error: string; retryable: boolean };

/** Calls one postback URL. Must not throw (a throw counts as a retryable failure anyway). */
export type Send = (url: string) => Promise<SendOutcome>;

/** Hooks for metrics and logs. */
export interface DispatcherObserver {
  onDelivered?: (postback: ClaimedPostback) => void;
  /** A retryable failure; the next attempt is due in `delayMs`. */
  onRetry?: (postback: ClaimedPostback, error: string, delayMs: number) => void;
  /** Given up: a permanent failure, or the last allowed attempt failed. */
  onFailed?: (postback: ClaimedPostback, error: string) => void;
  /** After each poll: rows pending or sending. */
  onQueueDepth?: (depth: number) => void;
  /** Another dispatcher took the row over (this one overran its lease); its outcome was dropped. */
  onLeaseLost?: (postback: ClaimedPostback) => void;
  /** An infrastructure failure (a database error); the affected rows are retried after their lease. */
  onError?: (err: Error) => void;
}

export interface DispatcherOptions extends DispatcherObserver {
  repo: OutboxRepo;
  send: Send;
  /**
   * The URL to call for a postback now, filled again from the partner's current postback URL (which
   * may have changed since the postback was queued); null when the partner wants none any more, and
   * the postback fails. Without it, the URL stored at queueing is called.
   */
  currentUrl?: (postback: ClaimedPostback) => Promise<string | null>;
  clock?: () => Date;
  /** Waits `ms` or until `signal` aborts; never rejects. Injected so tests control time. */
  wait?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** In [0, 1), for backoff jitter. */
  random?: () => number;
  /** Time between polls of an idle outbox. Default 1 s. */
  pollIntervalMs?: number;
  /** Sends in flight at once. Default 8. */
  concurrency?: number;
  /** How long a claim holds before another dispatcher may take the row over. Must exceed a send's total timeout. Default 60 s. */
  leaseMs?: number;
  /** Attempts before a postback is marked failed. Default 10. */
  maxAttempts?: number;
  backoff?: BackoffPolicy;
}

const defaultWait = (ms: number, signal: AbortSignal) =>
  delay(ms, undefined, { signal, ref: false }).catch(() => undefined);

const errorOf = (err: unknown) => (err instanceof Error ? err : new Error(String(err)));

/**
 * Tries to record one outcome before giving up on it. A write that fails (the database's write lock
 * held a little longer than the busy timeout: an operator's sqlite3, a second process) is tried
 * again after a short wait: given up at once, the row stayed `sending` and was sent again after its
 * lease, so a partner that had answered 200 received the postback twice. The write is fenced, so
 * trying again is always safe. Few tries, as each failing one blocks the main thread for the busy
 * timeout; the waits add up to about 3 s, well inside the lease.
 */
const OUTCOME_WRITE_TRIES = 4;
const outcomeRetryDelayMs = (failedTries: number) => 250 * 3 ** (failedTries - 1);

/**
 * Delivers the outbox: polls for due rows, sends them with bounded concurrency and records each
 * outcome (delivered, retried later with backoff, or failed). Runs beside the click path, never on
 * it. Delivery is at least once: a process that dies after the partner answered but before the
 * outcome was stored sends again after its lease expires.
 */
export class PostbackDispatcher {
  private readonly repo: OutboxRepo;
  private readonly send: Send;
  private readonly currentUrl: DispatcherOptions['currentUrl'];
  private readonly clock: () => Date;
  private readonly wait: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly pollIntervalMs: number;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly maxAttempts: number;
  private readonly backoff: BackoffPolicy;
  private readonly observer: DispatcherObserver;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(options: DispatcherOptions) {
    this.repo = options.repo;
    this.send = options.send;
    this.currentUrl = options.currentUrl;
    this.clock = options.clock ?? (() => new Date());
    this.wait = options.wait ?? defaultWait;
    this.random = options.random ?? Math.random;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.concurrency = options.concurrency ?? 8;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.maxAttempts = options.maxAttempts ?? 10;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.observer = options;
  }

  /** Sends in flight right now. */
  get sending(): number {
    return this.inFlight.size;
  }

  /** Starts polling on a timer. Idempotent; a no-op after close(). */
  start(): void {
    if (this.loop || this.stopping.signal.aborted) return;
    this.loop = this.run();
  }

  /**
   * One poll: claims as many due rows as there are free slots, sends them, and resolves once those
   * sends are recorded. Returns how many rows it claimed. Tests drive the dispatcher with this.
   */
  async runOnce(): Promise<number> {
    const started = await this.claimAndLaunch();
    await Promise.all(started);
    return started.length;
  }

  /** Stops polling, then waits for every send in flight to finish and be recorded. Idempotent. */
  async close(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      const free = this.concurrency - this.inFlight.size;
      let claimed = 0;
      try {
        claimed = (await this.claimAndLaunch()).length;
        this.observer.onQueueDepth?.(await this.repo.depth());
      } catch (err) {
        this.observer.onError?.(errorOf(err));
      }
      if (signal.aborted) break;
      // All slots taken, or a full claim (more rows are probably due): go again as soon as a send
      // finishes instead of waiting out the poll interval.
      const saturated = free <= 0 || (claimed === free && claimed > 0);
      const slotFreed = saturated && this.inFlight.size > 0 ? Promise.race(this.inFlight) : undefined;
      // Each turn's wait has its own signal, cancelled once the turn moves on: left pending after a
      // freed slot ended the turn, every wait kept a timer and an abort listener on the stop signal
      // for the whole poll interval, as many as sends finished meanwhile (found by a soak run: Node
      // warned of a possible memory leak with busy partners).
      const pause = new AbortController();
      const stop = () => pause.abort();
      signal.addEventListener('abort', stop, { once: true });
      try {
        await Promise.race([this.wait(this.pollIntervalMs, pause.signal), ...(slotFreed ? [slotFreed] : [])]);
      } finally {
        signal.removeEventListener('abort', stop);
        pause.abort();
      }
    }
  }

  private async claimAndLaunch(): Promise<Promise<void>[]> {
    const free = this.concurrency - this.inFlight.size;
    if (free <= 0 || this.stopping.signal.aborted) return [];
    const now = this.clock();
    const claims = await this.repo.claimDue(now, new Date(now.getTime() + this.leaseMs), free);
    return claims.map((claim) => {
      const task = this.deliver(claim).catch((err: unknown) => this.observer.onError?.(errorOf(err)));
      this.inFlight.add(task);
      void task.finally(() => this.inFlight.delete(task));
      return task;
    });
  }

  private async deliver(claim: ClaimedPostback): Promise<void> {
    // Attempts count claims, so a row whose sender keeps dying (a crash loop) still runs out.
    // Attempts since an operator last sent it again (a retry gives a fresh set).
    const tries = claim.attempts - claim.attempt_base;
    if (tries > this.maxAttempts) {
      const error = 'gave up: the last attempt never reported back';
      await this.settle(claim, () => this.repo.markFailed(claim, error), 'failed', error);
      return;
    }
    let outcome: SendOutcome;
    try {
      const url = this.currentUrl === undefined ? claim.url : await this.currentUrl(claim);
      if (url === null) {
        const error = 'the partner no longer has a postback URL';
        await this.settle(claim, () => this.repo.markFailed(claim, error), 'failed', error);
        return;
      }
      outcome = await this.send(url);
    } catch (err) {
      outcome = { ok: false, error: errorOf(err).message, retryable: true };
    }
    if (outcome.ok) {
      await this.settle(claim, () => this.repo.markDelivered(claim, this.clock()), 'delivered');
    } else if (!outcome.retryable || tries >= this.maxAttempts) {
      await this.settle(claim, () => this.repo.markFailed(claim, outcome.error), 'failed', outcome.error);
    } else {
      const delayMs = backoffDelayMs(tries, this.random, this.backoff);
      const next = new Date(this.clock().getTime() + delayMs);
      await this.settle(claim, () => this.repo.reschedule(claim, next, outcome.error), 'retry', outcome.error, delayMs);
    }
  }

  private async settle(
    claim: ClaimedPostback, write: () => Promise<boolean>, kind: 'delivered' | 'failed' | 'retry',
    error = '', delayMs = 0,
  ): Promise<void> {
    if (!(await this.recordOutcome(write))) {
      this.observer.onLeaseLost?.(claim);
      return;
    }
    if (kind === 'delivered') this.observer.onDelivered?.(claim);
    else if (kind === 'failed') this.observer.onFailed?.(claim, error);
    else this.observer.onRetry?.(claim, error, delayMs);
  }

  private async recordOutcome(write: () => Promise<boolean>): Promise<boolean> {
    // Not the stopping signal: close() waits for in-flight outcomes to be recorded.
    const never = new AbortController().signal;
    for (let tries = 1; ; tries++) {
      try {
        return await write();
      } catch (err) {
        if (tries >= OUTCOME_WRITE_TRIES) throw err;
        await this.wait(outcomeRetryDelayMs(tries), never);
      }
    }
  }
}
