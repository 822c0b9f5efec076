import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_KEY, tempDir } from '../support/api-server.js';
import { withClicksDb } from '../support/clicks.js';
import { callApi, killServerProcesses, startServerProcess, type ServerProcess } from '../support/server-process.js';

/**
 * SPEC §5: "exactly one node runs it in a cluster". Two real server processes share one data
 * directory and one accelerated clock (an hour passes every real second); each ticks its KPI
 * scheduler every 20 ms, and the lease expires in a fraction of a real second, so both processes
 * lead in turn and race for the same slots. The record must still hold exactly one run per slot.
 */

const SCRIPT = path.resolve('test/kpi/fixtures/clocked-server.mjs');
const HOUR_MS = 3_600_000;
const SPEED = 3600;
const BASE_MS = Date.parse('2030-05-01T00:00:00.000Z');

afterEach(() => killServerProcesses());

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('KPI scheduler across processes', () => {
  it('two processes on one database store exactly one run per link and slot, and one for every slot that passed', async () => {
    const dataDir = tempDir();
    const t0 = Date.now();
    const clockNow = () => BASE_MS + (Date.now() - t0) * SPEED;
    const env = {
      DATA_DIR: dataDir, SWITCHYARD_ADMIN_KEY: ADMIN_KEY, SQLITE_SYNCHRONOUS: 'normal', POSTBACK_CONCURRENCY: '0',
      KPI_SCHEDULER_INTERVAL_MS: '20', CLOCK_BASE_MS: String(BASE_MS), CLOCK_T0_MS: String(t0), CLOCK_SPEED: String(SPEED),
    };
    // One after the other: the first creates and migrates the database.
    const first: ServerProcess = await startServerProcess(env, 15_000, SCRIPT);
    const second: ServerProcess = await startServerProcess(env, 15_000, SCRIPT);

    const call = (server: ServerProcess, method: string, route: string, body?: unknown) => callApi(server.url, ADMIN_KEY, method, route, body);
    const advertiser = await call(first, 'POST', '/api/v1/advertisers', { name: 'Acme' });
    const offer = await call(first, 'POST', '/api/v1/offers', { advertiser_id: advertiser.body.id, name: 'O', destination_url: 'https://o.example/' });
    const link = await call(first, 'POST', '/api/v1/smart-links', {
      name: 'KPI', routing: 'kpi', kpi: { metric: 'cvr', run_frequency_hours: 1, collection_threshold: 0 }, entries: [{ offer_id: offer.body.id }],
    });
    expect(link.status, JSON.stringify(link.body)).toBe(201);
    const epochStartedMs = Date.parse((await call(second, 'GET', `/api/v1/smart-links/${link.body.id}/kpi`)).body.epoch_started_at);

    // Let at least five slots pass, then stop in the middle of an hour, well clear of a slot boundary.
    const firstSlotMs = Math.ceil(epochStartedMs / HOUR_MS) * HOUR_MS;
    while (clockNow() < firstSlotMs + 5 * HOUR_MS || (clockNow() % HOUR_MS) / HOUR_MS < 0.4 || (clockNow() % HOUR_MS) / HOUR_MS > 0.6) await pause(20);
    const stoppedMs = clockNow();
    await Promise.all([first.stop(), second.stop()]);

    const slots = withClicksDb(dataDir, (db) =>
      (db.prepare("select slot_at from kpi_runs where smart_link_id = ? and kind = 'run' order by slot_at").all(link.body.id) as { slot_at: string }[])
        .map((r) => r.slot_at));
    const expected: string[] = [];
    for (let slot = firstSlotMs; slot <= stoppedMs; slot += HOUR_MS) expected.push(new Date(slot).toISOString());
    expect(expected.length).toBeGreaterThanOrEqual(5);
    expect(slots).toEqual(expected);
    // Both processes were up and ticking over the whole stretch (each logs the runs it stored).
    const stored = (server: ServerProcess) => (server.output().match(/"msg":"KPI run stored"/g) ?? []).length;
    expect(stored(first) + stored(second)).toBe(expected.length);
  });
});
