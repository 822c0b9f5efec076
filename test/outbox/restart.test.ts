import { spawn, type ChildProcess } from 'node:child_process';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../src/store/sqlite/index.js';
import { openSqliteOutbox } from '../../src/store/sqlite/outbox.js';
import { startReceiver, type Receiver } from '../support/postback-receiver.js';
import { openOutboxFixture, T0, type OutboxFixture } from './helpers.js';

/** The outbox survives a dispatcher that dies mid-delivery: the row is delivered after its lease. */

const CLAIM_AND_HANG = fileURLToPath(new URL('./fixtures/claim-and-hang.mjs', import.meta.url));
const LEASE_MS = 60_000;

let fx: OutboxFixture;
let receiver: Receiver;
let child: ChildProcess | undefined;

beforeEach(async () => {
  fx = await openOutboxFixture();
  receiver = await startReceiver();
});
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
  await fx.close();
  await receiver.close();
});

describe('outbox across restarts', () => {
  it('a row left sending by a dead dispatcher is not resent while its lease holds, then delivered', async () => {
    const id = await fx.enqueue(`${receiver.origin}/pb?c=5`);
    // The "killed" process: claimed the row and never reported back.
    const [claim] = await fx.outbox.claimDue(T0, new Date(T0.getTime() + LEASE_MS), 10);
    expect(claim).toMatchObject({ id, attempts: 1 });

    const dispatcher = fx.dispatcher({ leaseMs: LEASE_MS });
    fx.clock.advance(LEASE_MS - 1);
    expect(await dispatcher.runOnce(), 'the lease still holds').toBe(0);
    fx.clock.advance(1);
    expect(await dispatcher.runOnce()).toBe(1);
    expect(receiver.requests.map((r) => r.url)).toEqual(['/pb?c=5']);
    expect(await fx.outbox.get(id)).toMatchObject({ state: 'delivered', attempts: 2 });
  });

  it('a dispatcher that overran its lease cannot overwrite the outcome of the one that took over', async () => {
    const id = await fx.enqueue(`${receiver.origin}/pb`);
    const [stale] = await fx.outbox.claimDue(T0, new Date(T0.getTime() + LEASE_MS), 1);
    const later = new Date(T0.getTime() + 2 * LEASE_MS);
    const [fresh] = await fx.outbox.claimDue(later, new Date(later.getTime() + LEASE_MS), 1);
    if (!stale || !fresh) throw new Error('both claims should succeed');
    expect(await fx.outbox.reschedule(stale, later, 'HTTP 500')).toBe(false);
    expect(await fx.outbox.markFailed(stale, 'HTTP 404')).toBe(false);
    expect(await fx.outbox.markDelivered(fresh, later)).toBe(true);
    expect(await fx.outbox.get(id)).toMatchObject({ state: 'delivered', attempts: 2 });
  });

  it('after an operator resends a failed postback, a sender that overran its lease before cannot overwrite the new attempt', async () => {
    const id = await fx.enqueue(`${receiver.origin}/pb`);
    // Dispatcher A claims and stalls past its lease; B takes the row over and the partner refuses it.
    const [stale] = await fx.outbox.claimDue(T0, new Date(T0.getTime() + LEASE_MS), 1);
    const t1 = new Date(T0.getTime() + 2 * LEASE_MS);
    const [b] = await fx.outbox.claimDue(t1, new Date(t1.getTime() + LEASE_MS), 1);
    if (!stale || !b) throw new Error('both claims should succeed');
    expect(await fx.outbox.markFailed(b, 'HTTP 404')).toBe(true);
    // The operator resends it; C claims it and is sending it now.
    const t2 = new Date(t1.getTime() + 1000);
    expect((await fx.store.partnerPostbacks.retry(id, t2))?.retried).toBe(true);
    const [c] = await fx.outbox.claimDue(t2, new Date(t2.getTime() + LEASE_MS), 1);
    if (!c) throw new Error('the resent row should be claimed');
    expect(await fx.outbox.markFailed(stale, 'HTTP 503 (from before the resend)')).toBe(false);
    expect(await fx.outbox.markDelivered(c, t2)).toBe(true);
    expect(await fx.outbox.get(id)).toMatchObject({ state: 'delivered', attempts: 3, attempt_base: 2 });
  });

  it('two dispatchers polling one database never claim the same row', async () => {
    for (let i = 0; i < 60; i++) await fx.enqueue(`${receiver.origin}/pb?n=${i}`);
    const other = await openSqliteOutbox({ dataDir: fx.dataDir, synchronous: 'normal' });
    try {
      const claimed: number[] = [];
      const lease = new Date(T0.getTime() + LEASE_MS);
      for (let round = 0; round < 20; round++) {
        const batches = await Promise.all([fx.outbox.claimDue(T0, lease, 7), other.claimDue(T0, lease, 7)]);
        claimed.push(...batches.flat().map((c) => c.id));
      }
      expect(claimed).toHaveLength(60);
      expect(new Set(claimed).size).toBe(60);
    } finally {
      await other.close();
    }
  });

  it('kill -9 between the conversion and its delivery still delivers after restart', async () => {
    const held: ServerResponse[] = [];
    receiver.reply = (_req, res, index) => (index === 0 ? held.push(res) : res.end('ok'));
    // Due now by the child's real clock (the fixture's manual clock is not the child's).
    const id = await fx.outbox.enqueue({ conversion_id: 77, partner_id: 7, url: `${receiver.origin}/pb?conversion_id=77` }, new Date());

    child = spawn(process.execPath, [CLAIM_AND_HANG, fx.dataDir, String(LEASE_MS)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, POSTBACK_ALLOW_LOOPBACK: '1' },
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child?.on('exit', (_code, signal) => resolve(signal)));
    // The child claimed the row and its request is at the receiver, unanswered: kill it there.
    await Promise.race([receiver.waitForRequests(1), exited.then(() => { throw new Error(`child exited: ${stderr}`); })]);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    held.forEach((res) => res.destroy());

    const orphan = await fx.outbox.get(id);
    expect(orphan).toMatchObject({ state: 'sending', attempts: 1 });

    // The restarted process: its clock is past the dead one's lease.
    fx.clock.set(new Date(Date.parse(orphan?.next_attempt_at ?? '') + 1));
    const dispatcher = fx.dispatcher({ leaseMs: LEASE_MS });
    expect(await dispatcher.runOnce()).toBe(1);
    expect(receiver.requests.map((r) => r.url)).toEqual(['/pb?conversion_id=77', '/pb?conversion_id=77']);
    expect(await fx.outbox.get(id)).toMatchObject({ state: 'delivered', attempts: 2 });
  });

  it('a partner that answered 200 while another connection held the write lock a little longer is not sent the postback again', async () => {
    // An operator's sqlite3 (or a second process) holds the write lock while the partner answers.
    const blocker = new Database(path.join(fx.dataDir, DATABASE_FILE));
    try {
      receiver.reply = (_req, res, index) => {
        if (index === 0) blocker.exec('begin immediate');
        res.end('ok');
      };
      const id = await fx.enqueue(`${receiver.origin}/pb?c=9`);
      // The lock is let go during the dispatcher's first wait after that (no real time passes).
      const wait = async () => {
        if (blocker.inTransaction) blocker.exec('rollback');
      };
      const dispatcher = fx.dispatcher({ leaseMs: LEASE_MS, wait });
      expect(await dispatcher.runOnce()).toBe(1);
      expect(await fx.outbox.get(id)).toMatchObject({ state: 'delivered', attempts: 1 });

      fx.clock.advance(2 * LEASE_MS);
      expect(await dispatcher.runOnce()).toBe(0);
      expect(receiver.requests.map((r) => r.url)).toEqual(['/pb?c=9']);
      expect(fx.seen.delivered).toEqual([id]);
    } finally {
      if (blocker.inTransaction) blocker.exec('rollback');
      blocker.close();
    }
  });
});
