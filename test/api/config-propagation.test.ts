import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { StoreTx } from '../../src/ports/store.js';
import { DATABASE_FILE } from '../../src/store/sqlite/index.js';
import { startServer, type TestServer } from '../support/api-server.js';
import { clickOn } from '../support/clicks.js';
import { create } from '../support/fixtures.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { POSTBACK_CONCURRENCY: '0' } });
});
afterAll(async () => server.close());

/**
 * Runs the next store transaction after `skip` others while another connection (the click writer
 * under load, an operator's sqlite3, a second process) holds the database's write lock.
 */
function lockTransaction(skip: number): void {
  const store = server.store;
  const real = store.transaction.bind(store);
  let calls = 0;
  store.transaction = async <T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> => {
    calls += 1;
    if (calls <= skip) return real(fn);
    store.transaction = real;
    const blocker = new Database(path.join(server.dataDir, DATABASE_FILE));
    blocker.exec('begin immediate');
    try {
      return await real(fn);
    } finally {
      blocker.exec('rollback');
      blocker.close();
    }
  };
}

describe('configuration changes reach the click path (SPEC §3)', () => {
  it('a change whose snapshot rebuild found the write lock held elsewhere still reaches the click path, with no further change', async () => {
    const advertiser = await create(server, '/api/v1/advertisers', { name: 'Propagation' });
    const offer = await create(server, '/api/v1/offers', { advertiser_id: advertiser.id, name: 'p', destination_url: 'https://old.example/' });
    const partner = await create(server, '/api/v1/partners', { name: 'Propagation traffic' });
    const link = await create(server, '/api/v1/smart-links', { name: 'Propagation', entries: [{ offer_id: offer.id }] });
    const token = (await server.call('POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: partner.id })).body.token;
    expect((await clickOn(server.url, token)).location).toBe('https://old.example/');

    // The PATCH's own write commits; the rebuild that follows (the next transaction) finds the lock taken.
    lockTransaction(1);
    const patched = await server.call('PATCH', `/api/v1/offers/${offer.id}`, { destination_url: 'https://new.example/' });
    expect(patched.status).toBe(200);
    expect((await server.call('GET', `/api/v1/offers/${offer.id}`)).body.destination_url).toBe('https://new.example/');

    // The answer said the change was saved; the click path must follow without another change.
    await vi.waitFor(async () => expect((await clickOn(server.url, token)).location).toBe('https://new.example/'), { timeout: 5_000, interval: 100 });
  });
});
