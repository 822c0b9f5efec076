import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../src/store/sqlite/index.js';
import { startServer, type TestServer } from '../support/api-server.js';
import { clickOn } from '../support/clicks.js';
import { basicNetwork } from '../support/fixtures.js';

/** GET /readyz (README, operations): ready means a click can be stored, not merely that the database file opens. */

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let server: TestServer;
let token: string;

beforeAll(async () => {
  server = await startServer();
  const n = await basicNetwork(server);
  token = (await server.call('POST', `/api/v1/smart-links/${n.smartLink.id}/tracking-links`, { partner_id: n.partner.id })).body.token;
});
afterAll(async () => server?.close());

describe('readiness', () => {
  it('is 503 as long as clicks cannot be committed (the write lock held elsewhere), and ready again once the cause is gone, without traffic', async () => {
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    const blocker = new Database(path.join(server.dataDir, DATABASE_FILE));
    try {
      blocker.exec('begin immediate');
      // The writer gives up on the lock after its busy timeout: the click is refused, not redirected.
      expect((await clickOn(server.url, token)).status).toBe(503);
      const unready = await fetch(`${server.url}/readyz`);
      expect(unready.status).toBe(503);
      expect(((await unready.json()) as { reason: string }).reason).toMatch(/clicks cannot be stored: .*locked/);
      // No click comes, the cause stays: still unready well past the writer's lock wait.
      await pause(7_000);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    } finally {
      blocker.exec('rollback');
      blocker.close();
    }
    // A load balancer sends an unready node nothing: readiness must recover without a click.
    const deadline = Date.now() + 8_000;
    while ((await fetch(`${server.url}/readyz`)).status !== 200) {
      expect(Date.now(), 'ready again within the lock wait and a probe interval').toBeLessThan(deadline);
      await pause(200);
    }
    expect((await clickOn(server.url, token)).status).toBe(302);
  }, 40_000);
});
