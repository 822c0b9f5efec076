import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, tempDir } from '../support/api-server.js';
import { killServerProcesses, startServerProcess, type ServerProcess } from '../support/server-process.js';

/**
 * SPEC §11: reports accept any IANA zone and dates. Samoa (Pacific/Apia) skipped 30 December 2011;
 * a report by day over it looped for ever on the server's one JavaScript thread, so one request
 * with any API key — a partner's too — stopped every click and every API call until a restart.
 * The server runs in its own process here, so the test can notice that it stopped answering.
 */

let server: ServerProcess;
beforeAll(async () => {
  server = await startServerProcess({ DATA_DIR: tempDir(), SWITCHYARD_ADMIN_KEY: ADMIN_KEY, SQLITE_SYNCHRONOUS: 'normal' });
});
afterAll(() => killServerProcesses());

const get = (path: string) => fetch(server.url + path, { headers: { authorization: `Bearer ${ADMIN_KEY}` }, signal: AbortSignal.timeout(5_000) });

describe('a report by day over a date the clocks skipped', () => {
  it('answers, and the server keeps answering', async () => {
    const res = await get('/api/v1/reports?from=2011-12-29&to=2011-12-31&timezone=Pacific/Apia&group_by=day');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { total: number }).total).toBe(0);
    expect((await get('/healthz')).status).toBe(200);
  });
});
