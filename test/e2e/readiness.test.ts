import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/api-server.js';
import { clickOn } from '../support/clicks.js';
import { clickTid, convertingOffer, postback } from '../support/conversions.js';
import { basicNetwork, create } from '../support/fixtures.js';
import { whileWriteLocked } from '../support/write-lock.js';

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
    await whileWriteLocked(server.dataDir, async () => {
      // The writer gives up on the lock after its busy timeout: the click is refused, not redirected.
      expect((await clickOn(server.url, token)).status).toBe(503);
      const unready = await fetch(`${server.url}/readyz`);
      expect(unready.status).toBe(503);
      expect(((await unready.json()) as { reason: string }).reason).toMatch(/clicks cannot be stored: .*locked/);
      // No click comes, the cause stays: still unready well past the writer's lock wait.
      await pause(7_000);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    });
    // A load balancer sends an unready node nothing: readiness must recover without a click.
    const deadline = Date.now() + 8_000;
    while ((await fetch(`${server.url}/readyz`)).status !== 200) {
      expect(Date.now(), 'ready again within the lock wait and a probe interval').toBeLessThan(deadline);
      await pause(200);
    }
    expect((await clickOn(server.url, token)).status).toBe(302);
  }, 40_000);
});

describe('probes while another connection holds the write lock', () => {
  it('/healthz and /readyz keep answering: background writes on the main thread (the KPI lease) do not freeze the event loop for the lock wait', async () => {
    // A KPI tick renews its lease with a write on the main thread's connection; ticking often makes
    // the lock wait show up within the test, as it does once a minute with the default interval.
    const busy = await startServer({ env: { KPI_SCHEDULER_INTERVAL_MS: '100' } });
    let slowest = 0;
    try {
      await whileWriteLocked(busy.dataDir, async () => {
        // Long enough for a few ticks; a probe that hangs is given up after 3 s (counted as such).
        for (let round = 0; round < 2; round++) {
          await pause(300);
          for (const probe of ['/healthz', '/readyz']) {
            const started = performance.now();
            await fetch(`${busy.url}${probe}`, { signal: AbortSignal.timeout(3_000) }).then((res) => res.arrayBuffer(), () => undefined);
            slowest = Math.max(slowest, performance.now() - started);
          }
        }
      });
    } finally {
      await busy.close();
    }
    // A node frozen for the lock wait (5 s at every tick, postback claim or API write) fails its
    // liveness probe and is restarted, and cannot even start while the lock lasts. The margin is wide
    // for loaded machines: a wait of a quarter second per tick never adds up to 3 s.
    expect(slowest, 'slowest probe answer (ms)').toBeLessThan(3_000);
  }, 60_000);
});

describe('an API write while another connection holds the write lock', () => {
  it('is refused with 503 unavailable and Retry-After (nothing written), and goes through when sent again after the lock is gone', async () => {
    const refused = await whileWriteLocked(server.dataDir, () => server.call<{ error: { code: string } }>('POST', '/api/v1/advertisers', { name: 'While locked' }));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.body.error.code).toBe('unavailable');
    const listed = await server.call('GET', '/api/v1/advertisers?page_size=500');
    expect(listed.body.data.map((a: { name: string }) => a.name)).not.toContain('While locked');
    expect((await server.call('POST', '/api/v1/advertisers', { name: 'While locked' })).status).toBe(201);
  }, 30_000);
});

describe('click latency while clicks cannot be stored', () => {
  const metric = async (line: RegExp): Promise<number> => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    return Number(line.exec(text)?.[1] ?? 0);
  };
  const count = () => metric(/^switchyard_click_duration_seconds_count (\S+)$/m);
  const slowerThanOneSecond = async () =>
    (await count()) - (await metric(/^switchyard_click_duration_seconds_bucket\{le="1"\} (\S+)$/m));

  it('a click answered 503 after waiting out the lock is in the latency histogram: an incident shows as slow answers, not as none', async () => {
    const [countBefore, slowBefore] = [await count(), await slowerThanOneSecond()];
    const { status } = await whileWriteLocked(server.dataDir, () => clickOn(server.url, token));
    expect(status).toBe(503);
    expect(await count(), 'clicks in switchyard_click_duration_seconds').toBe(countBefore + 1);
    // It waited for the writer's lock timeout (seconds) before its answer.
    expect(await slowerThanOneSecond()).toBe(slowBefore + 1);
  }, 30_000);
});

describe('an advertiser postback while another connection holds the write lock', () => {
  it('is refused with 503 unavailable and Retry-After like an API write (nothing written), not 500 internal, and is recorded when sent again', async () => {
    const advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Locked postbacks' })).id;
    const partnerId = (await create(server, '/api/v1/partners', { name: 'Locked postbacks partner' })).id;
    const offer = await convertingOffer(server, advertiserId, partnerId);
    const tid = await clickTid(server, offer.token);
    const refused = await whileWriteLocked(server.dataDir, () => postback(server, { transaction_id: tid }));
    expect(refused.status, JSON.stringify(refused.body)).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.body.error.code).toBe('unavailable');
    expect((await postback(server, { transaction_id: tid })).body.status).toBe('approved');
  }, 30_000);
});

describe('GET /metrics with METRICS_TOKEN', () => {
  it('answers only the scraper that presents the token; without one it is refused and shows nothing', async () => {
    const token = 'scrape-0123456789-abcdef';
    const guarded = await startServer({ env: { METRICS_TOKEN: token } });
    try {
      const anonymous = await fetch(`${guarded.url}/metrics`);
      expect(anonymous.status).toBe(401);
      expect(await anonymous.text()).not.toContain('switchyard_');
      expect((await fetch(`${guarded.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
      const scraper = await fetch(`${guarded.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(scraper.status).toBe(200);
      expect(await scraper.text()).toContain('switchyard_click_duration_seconds');
    } finally {
      await guarded.close();
    }
  });
});
