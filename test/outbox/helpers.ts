import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PostbackDispatcher, type DispatcherOptions } from '../../src/outbox/index.js';
import { SafeHttpClient } from '../../src/outbound/index.js';
import type { ClaimedPostback } from '../../src/ports/outbox.js';
import type { Store } from '../../src/ports/store.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { openSqliteOutbox, type OpenedOutbox } from '../../src/store/sqlite/outbox.js';

export const T0 = new Date('2026-03-01T12:00:00.000Z');

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(private time = T0.getTime()) {}
  readonly now = () => new Date(this.time);
  set(at: Date | string): void {
    this.time = new Date(at).getTime();
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

/** What the dispatcher reported through its hooks. */
export interface Seen {
  delivered: number[];
  retried: { id: number; error: string; delayMs: number }[];
  failed: { id: number; error: string }[];
  depths: number[];
  leaseLost: number[];
  errors: Error[];
}

export interface OutboxFixture {
  dataDir: string;
  store: Store;
  outbox: OpenedOutbox;
  clock: ManualClock;
  seen: Seen;
  /** A dispatcher on the fixture's outbox and clock, sending through the SSRF-safe client. */
  dispatcher(options?: Partial<DispatcherOptions> & { client?: SafeHttpClient }): PostbackDispatcher;
  enqueue(url: string, conversionId?: number): Promise<number>;
  close(): Promise<void>;
}

/** A migrated SQLite database in a temp dir, its outbox, a manual clock and recorded hooks. */
export async function openOutboxFixture(dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-outbox-'))): Promise<OutboxFixture> {
  const store = await openSqliteStore({ dataDir, synchronous: 'normal' });
  const outbox = await openSqliteOutbox({ dataDir, synchronous: 'normal' });
  const clock = new ManualClock();
  const seen: Seen = { delivered: [], retried: [], failed: [], depths: [], leaseLost: [], errors: [] };
  const dispatchers: PostbackDispatcher[] = [];
  let conversions = 0;
  return {
    dataDir, store, outbox, clock, seen,
    dispatcher({ client = new SafeHttpClient({ allowLoopback: true }), ...options } = {}) {
      const dispatcher = new PostbackDispatcher({
        repo: outbox,
        send: (url) => client.get(url),
        clock: clock.now,
        random: () => 0.5,
        onDelivered: (p: ClaimedPostback) => seen.delivered.push(p.id),
        onRetry: (p, error, delayMs) => seen.retried.push({ id: p.id, error, delayMs }),
        onFailed: (p, error) => seen.failed.push({ id: p.id, error }),
        onQueueDepth: (depth) => seen.depths.push(depth),
        onLeaseLost: (p) => seen.leaseLost.push(p.id),
        onError: (err) => seen.errors.push(err),
        ...options,
      });
      dispatchers.push(dispatcher);
      return dispatcher;
    },
    enqueue: (url, conversionId = ++conversions) => outbox.enqueue({ conversion_id: conversionId, partner_id: 7, url }, clock.now()),
    async close() {
      await Promise.all(dispatchers.map((d) => d.close()));
      await outbox.close();
      await store.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
