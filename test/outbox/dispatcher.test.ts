import type { ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../../src/outbox/index.js';
import { SafeHttpClient } from '../../src/outbound/index.js';
import { answer, startReceiver, type Receiver } from '../support/postback-receiver.js';
import { openOutboxFixture, T0, type OutboxFixture } from './helpers.js';

/**
 * The postback dispatcher over a real SQLite outbox and a real HTTP receiver on 127.0.0.1 (with
 * the test-only loopback switch). Time moves only when a test moves the manual clock.
 */

let fx: OutboxFixture;
let receiver: Receiver;

beforeEach(async () => {
  fx = await openOutboxFixture();
  receiver = await startReceiver();
});
afterEach(async () => {
  await fx.close();
  await receiver.close();
});

const HOUR_MS = 60 * 60_000;

describe('postback dispatcher', () => {
  it('delivers a pending postback once, to its exact URL, and records it', async () => {
    const path = '/postback?conversion_id=981&payout=2.50&sub1=spring%20sale&tid=0f3a';
    const id = await fx.enqueue(`${receiver.origin}${path}`);
    const dispatcher = fx.dispatcher();
    expect(await dispatcher.runOnce()).toBe(1);
    expect(await dispatcher.runOnce()).toBe(0);
    fx.clock.advance(24 * HOUR_MS);
    expect(await dispatcher.runOnce()).toBe(0);

    expect(receiver.requests.map((r) => r.url)).toEqual([path]);
    expect(await fx.outbox.get(id)).toMatchObject({
      state: 'delivered', attempts: 1, delivered_at: T0.toISOString(), last_error: null,
    });
    expect(fx.seen.delivered).toEqual([id]);
    expect(await fx.outbox.depth()).toBe(0);
  });

  it('a receiver failing twice (500) then succeeding gets it delivered exactly once, after backoff', async () => {
    receiver.reply = (_req, res, index) => answer(index < 2 ? 500 : 200)(_req, res, index);
    const id = await fx.enqueue(`${receiver.origin}/pb?c=1`);
    const dispatcher = fx.dispatcher();

    expect(await dispatcher.runOnce()).toBe(1);
    const first = await fx.outbox.get(id);
    // random() = 0.5 in the fixture: 3/4 of 30 s after the first failure.
    expect(first).toMatchObject({ state: 'pending', attempts: 1, last_error: 'HTTP 500' });
    expect(first?.next_attempt_at).toBe(new Date(T0.getTime() + 22_500).toISOString());

    fx.clock.advance(22_499);
    expect(await dispatcher.runOnce(), 'not due before its backoff').toBe(0);
    fx.clock.advance(1);
    expect(await dispatcher.runOnce()).toBe(1);
    const second = await fx.outbox.get(id);
    expect(second).toMatchObject({ state: 'pending', attempts: 2 });
    expect(second?.next_attempt_at).toBe(new Date(fx.clock.now().getTime() + 45_000).toISOString());

    fx.clock.set(second?.next_attempt_at ?? '');
    expect(await dispatcher.runOnce()).toBe(1);
    fx.clock.advance(24 * HOUR_MS);
    expect(await dispatcher.runOnce()).toBe(0);

    expect(receiver.requests).toHaveLength(3);
    expect(await fx.outbox.get(id)).toMatchObject({ state: 'delivered', attempts: 3, last_error: null });
    expect(fx.seen.retried.map((r) => [r.error, r.delayMs])).toEqual([['HTTP 500', 22_500], ['HTTP 500', 45_000]]);
    expect(fx.seen.delivered).toEqual([id]);
  });

  it('a permanent refusal (404) is marked failed at once, with no retry storm', async () => {
    receiver.reply = answer(404);
    const id = await fx.enqueue(`${receiver.origin}/gone`);
    const dispatcher = fx.dispatcher();
    expect(await dispatcher.runOnce()).toBe(1);
    for (let day = 0; day < 3; day++) {
      fx.clock.advance(24 * HOUR_MS);
      expect(await dispatcher.runOnce()).toBe(0);
    }
    expect(receiver.requests).toHaveLength(1);
    expect(await fx.outbox.get(id)).toMatchObject({ state: 'failed', attempts: 1, last_error: 'HTTP 404', delivered_at: null });
    expect(fx.seen.failed).toEqual([{ id, error: 'HTTP 404' }]);
  });

  it('a postback that keeps failing is given up after maxAttempts, never sooner', async () => {
    receiver.reply = answer(503);
    const id = await fx.enqueue(`${receiver.origin}/down`);
    const dispatcher = fx.dispatcher({ maxAttempts: 4 });
    let rounds = 0;
    while (rounds < 10) {
      await dispatcher.runOnce();
      fx.clock.advance(2 * HOUR_MS);
      rounds++;
    }
    expect(receiver.requests).toHaveLength(4);
    expect(await fx.outbox.get(id)).toMatchObject({ state: 'failed', attempts: 4, last_error: 'HTTP 503' });
    expect(fx.seen.retried).toHaveLength(3);
    expect(fx.seen.failed).toEqual([{ id, error: 'HTTP 503' }]);
  });

  it('with the loopback switch off, postbacks to private addresses fail without any connection', async () => {
    const urls = [
      `${receiver.origin}/pb`, `http://localhost:${receiver.port}/pb`, `http://2130706433:${receiver.port}/pb`,
      `http://[::ffff:127.0.0.1]:${receiver.port}/pb`, 'http://169.254.169.254/latest/meta-data/', 'http://10.0.0.1/pb',
    ];
    for (const url of urls) await fx.enqueue(url);
    const dispatcher = fx.dispatcher({ client: new SafeHttpClient() });
    expect(await dispatcher.runOnce()).toBe(urls.length);
    fx.clock.advance(24 * HOUR_MS);
    expect(await dispatcher.runOnce()).toBe(0);
    expect(receiver.requests).toHaveLength(0);
    expect(fx.seen.failed).toHaveLength(urls.length);
    expect(fx.seen.failed.every((f) => f.error.startsWith('refused address '))).toBe(true);
  });

  it('runs at most `concurrency` sends at once; the rest stay pending', async () => {
    const held: ServerResponse[] = [];
    receiver.reply = (_req, res) => held.push(res);
    for (let i = 0; i < 10; i++) await fx.enqueue(`${receiver.origin}/pb?n=${i}`);
    const dispatcher = fx.dispatcher({ concurrency: 3 });
    const run = dispatcher.runOnce();
    await receiver.waitForRequests(3);
    expect(dispatcher.sending).toBe(3);
    held.forEach((res) => res.end('ok'));
    expect(await run).toBe(3);
    expect(await fx.outbox.depth()).toBe(7);
  });
});

describe('postback dispatcher fairness', () => {
  it("one partner's hanging endpoint does not hold up another partner's postbacks, and still gets the slots nobody else needs", async () => {
    const held: ServerResponse[] = [];
    receiver.reply = (req, res) => (req.url?.startsWith('/slow') ? held.push(res) : res.end('ok'));
    for (let i = 0; i < 12; i++) await fx.outbox.enqueue({ conversion_id: i + 1, partner_id: 7, url: `${receiver.origin}/slow?n=${i}` }, fx.clock.now());
    await fx.outbox.enqueue({ conversion_id: 100, partner_id: 8, url: `${receiver.origin}/fast?c=100` }, fx.clock.now());
    const dispatcher = fx.dispatcher({ concurrency: 2 });
    const first = dispatcher.runOnce();
    await receiver.waitForRequests(2);
    // The newest row, but the other partner's first: it goes out in the same poll as the oldest.
    expect(receiver.requests.map((r) => r.url.split('?')[0]).sort()).toEqual(['/fast', '/slow']);
    while (dispatcher.sending > 1) await new Promise((resolve) => setTimeout(resolve, 5));
    // Alone now, the slow partner gets the slot the other one freed as well.
    const second = dispatcher.runOnce();
    await receiver.waitForRequests(3);
    expect(dispatcher.sending).toBe(2);
    expect(receiver.requests[2]?.url).toMatch(/^\/slow/);
    held.forEach((res) => res.end('ok'));
    await Promise.all([first, second]);
  });
});

describe('postback dispatcher fairness when one slot frees', () => {
  it("a hanging partner does not take the freed slot while another partner's postbacks are due", async () => {
    const held: ServerResponse[] = [];
    receiver.reply = (req, res) => (req.url?.startsWith('/slow') ? held.push(res) : res.end('ok'));
    for (let i = 0; i < 12; i++) await fx.outbox.enqueue({ conversion_id: i + 1, partner_id: 7, url: `${receiver.origin}/slow?n=${i}` }, fx.clock.now());
    for (let i = 0; i < 3; i++) await fx.outbox.enqueue({ conversion_id: 100 + i, partner_id: 8, url: `${receiver.origin}/fast?n=${i}` }, fx.clock.now());
    const dispatcher = fx.dispatcher({ concurrency: 2 });
    const first = dispatcher.runOnce();
    await receiver.waitForRequests(2);
    while (dispatcher.sending > 1) await new Promise((resolve) => setTimeout(resolve, 5));
    // One slot free; partner 7 already has a send hanging, partner 8 has two postbacks due.
    const second = dispatcher.runOnce();
    await receiver.waitForRequests(3);
    const third = receiver.requests[2]?.url ?? '';
    held.forEach((res) => res.end('ok'));
    await Promise.all([first, second]);
    expect(third).toMatch(/^\/fast/);
  });
});

describe('postback dispatcher timer loop', () => {
  it('delivers without being driven, reports queue depth, and close() waits for the send in flight', async () => {
    const held: ServerResponse[] = [];
    receiver.reply = (_req, res) => held.push(res);
    // Each poll's wait resolves only when the test says so (or when close() aborts it).
    const polls: (() => void)[] = [];
    const wait = (_ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
      polls.push(resolve);
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    const id = await fx.enqueue(`${receiver.origin}/pb?loop=1`);
    const dispatcher = fx.dispatcher({ wait });
    dispatcher.start();
    await receiver.waitForRequests(1);
    expect(fx.seen.depths).toEqual([1]);

    let closed = false;
    const closing = dispatcher.close().then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed, 'close() must wait for the send in flight').toBe(false);
    held[0]?.end('ok');
    await closing;
    expect(await fx.outbox.get(id)).toMatchObject({ state: 'delivered', attempts: 1 });
    expect(polls.length).toBeGreaterThan(0);
  });

  it('a poll wait cut short by a freed slot is cancelled, not left pending on the dispatcher (no "possible memory leak" warning)', async () => {
    // Found by a soak run: with every slot busy the loop goes round as each send finishes, and each
    // turn left its poll wait (a timer and an abort listener on the dispatcher's one stop signal)
    // pending for the whole poll interval. Busy partners made Node print "MaxListenersExceededWarning:
    // Possible EventTarget memory leak detected. 11 abort listeners added to [AbortSignal]", and the
    // timers and listeners left grew with the delivery rate.
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    let pending = 0;
    let most = 0;
    const wait = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
      pending++;
      most = Math.max(most, pending);
      const done = () => {
        clearTimeout(timer);
        pending--;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
    try {
      const ids = [];
      for (let i = 0; i < 30; i++) ids.push(await fx.enqueue(`${receiver.origin}/pb?busy=${i}`));
      const dispatcher = fx.dispatcher({ concurrency: 1, pollIntervalMs: 60_000, wait });
      dispatcher.start();
      await receiver.waitForRequests(30);
      for (let i = 0; i < 200 && fx.seen.delivered.length < 30; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(fx.seen.delivered).toHaveLength(30);
      expect(most, 'poll waits pending at once').toBeLessThanOrEqual(2);
      await dispatcher.close();
      expect(pending).toBe(0);

      // The same with the built-in wait: the stop signal never collects more than a listener or two.
      const more = [];
      for (let i = 0; i < 30; i++) more.push(await fx.enqueue(`${receiver.origin}/pb?busy2=${i}`));
      const plain = fx.dispatcher({ concurrency: 1, pollIntervalMs: 60_000 });
      plain.start();
      await receiver.waitForRequests(60);
      for (let i = 0; i < 200 && fx.seen.delivered.length < 60; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(fx.seen.delivered).toHaveLength(60);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a later postback is picked up on the next poll', async () => {
    let nextPoll: (() => void) | undefined;
    const polled: (() => void)[] = [];
    const wait = (_ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
      nextPoll = resolve;
      polled.shift()?.();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    const dispatcher = fx.dispatcher({ wait });
    const idle = new Promise<void>((resolve) => polled.push(resolve));
    dispatcher.start();
    await idle;
    const id = await fx.enqueue(`${receiver.origin}/pb?later=1`);
    nextPoll?.();
    await receiver.waitForRequests(1);
    await dispatcher.close();
    expect(await fx.outbox.get(id)).toMatchObject({ state: 'delivered' });
  });
});

describe('backoff', () => {
  it('doubles from 30 s, is capped at 1 h, and jitters only within the upper half', () => {
    const low = [1, 2, 3, 4, 8, 9, 10, 20].map((n) => backoffDelayMs(n, () => 0));
    const high = [1, 2, 3, 4, 8, 9, 10, 20].map((n) => backoffDelayMs(n, () => 0.999999));
    expect(low).toEqual([15_000, 30_000, 60_000, 120_000, 1_800_000, 1_800_000, 1_800_000, 1_800_000]);
    expect(high.map((ms) => Math.round(ms / 1000))).toEqual([30, 60, 120, 240, 3600, 3600, 3600, 3600]);
  });
});
