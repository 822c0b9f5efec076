import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/api-server.js';
import { sendRaw } from '../support/raw-http.js';
import { oneOfferLink } from '../support/fixtures.js';
import { DATABASE_FILE } from '../../src/store/sqlite/index.js';

/**
 * Pipelined requests (several in one packet, as some proxies and load generators send) are parsed in
 * one read, so their routes run interleaved in one macrotask. Deciding and reserving a click must stay
 * one synchronous step, or each pipelined click passes a hard cap the one before it is about to reach.
 */
let server: TestServer;
let token: string;
let offerId: number;

beforeAll(async () => {
  server = await startServer();
  ({ offerId, token } = await oneOfferLink(server, {
    name: 'Capped', destination_url: 'https://capped.example/?t={transaction_id}', conversion_method: 'cookie',
    caps: [{ metric: 'clicks', period: 'daily', limit: 1, mode: 'hard' }],
  }));
});
afterAll(async () => server?.close());

const send = (bytes: string): Promise<string> => sendRaw(server.url, bytes);

describe('pipelined clicks (several valid requests in one packet)', () => {
  it('are all served and stored, and a hard cap of 1 lets only one through to the capped offer', async () => {
    const n = 6;
    const one = (last: boolean) => `GET /sl/${token} HTTP/1.1\r\nHost: clicks.example.com\r\n${last ? 'Connection: close\r\n' : ''}\r\n`;
    const answer = await send(Array.from({ length: n }, (_, i) => one(i === n - 1)).join(''));
    const statuses = [...answer.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => m[1]);
    expect(statuses).toHaveLength(n);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const db = new Database(path.join(server.dataDir, DATABASE_FILE), { readonly: true });
    try {
      const total = (db.prepare('select count(*) as n from clicks').get() as { n: number }).n;
      const routed = (db.prepare('select count(*) as n from clicks where offer_id = ?').get(offerId) as { n: number }).n;
      expect(total).toBe(n);
      expect(routed).toBe(1);
    } finally {
      db.close();
    }
    expect([...answer.matchAll(/location: https:\/\/capped\.example\//gi)]).toHaveLength(1);
  });
});
