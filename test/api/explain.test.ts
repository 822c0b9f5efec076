import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { openContextBuilder, type ContextBuilder } from '../../src/context/index.js';
import { allClear, decide, seededRng } from '../../src/engine/index.js';
import { loadSnapshot } from '../../src/live/snapshot-holder.js';
import { openServer } from '../../src/server.js';
import type { Store } from '../../src/ports/store.js';

const ADMIN_KEY = 'explain-test-admin-key-0123';
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1';

let app: FastifyInstance;
let store: Store;
let contexts: ContextBuilder;
let base: string;
let closeServer: () => Promise<void>;
const ids = { link: 0, partner: 0, iosOffer: 0 };

async function call(method: string, route: string, body?: unknown, key: string | null = ADMIN_KEY) {
  const headers: Record<string, string> = {};
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + route, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function create(route: string, body: unknown): Promise<{ id: number }> {
  const res = await call('POST', `/api/v1${route}`, body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

beforeAll(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-explain-'));
  const config = loadConfig({ DATA_DIR: dataDir, SWITCHYARD_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: 'silent' });
  const server = await openServer(config);
  ({ app, store } = server);
  closeServer = server.close;
  contexts = await openContextBuilder();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  base = `http://127.0.0.1:${address.port}`;

  const advertiser = await create('/advertisers', { name: 'Acme' });
  const osOffer = (name: string, os: string) =>
    create('/offers', {
      advertiser_id: advertiser.id, name, destination_url: `https://${os.toLowerCase()}.example/?t={transaction_id}&s={sub1}`,
      ruleset: { rules: [{ dimension: 'os', op: 'include', values: [os] }] },
    });
  const ios = await osOffer('iOS offer', 'iOS');
  const android = await osOffer('Android offer', 'Android');
  const iosUrls = await Promise.all([1, 2, 3].map((n) => create(`/offers/${ios.id}/urls`, { name: `creative ${n}`, destination_url: `https://ios.example/c${n}?s={sub1}` })));
  const fallback = await create('/offers', { advertiser_id: advertiser.id, name: 'Fallback', destination_url: 'https://fallback.example/' });
  const link = await create('/smart-links', {
    name: 'OS split',
    routing: 'weight',
    catch_all_offer_id: fallback.id,
    entries: [...iosUrls.map((u) => ({ offer_id: ios.id, offer_url_id: u.id, routing_value: 1 })), { offer_id: android.id, routing_value: 1 }],
  });
  ids.link = link.id;
  ids.iosOffer = ios.id;
  ids.partner = (await create('/partners', { name: 'Traffic Co' })).id;
});

afterAll(async () => {
  await closeServer();
});

const listings = () => Promise.all(['/advertisers', '/offers', '/partners', '/smart-links', `/smart-links/${ids.link}`, '/settings'].map((r) => call('GET', `/api/v1${r}`)));

describe('POST /api/v1/smart-links/:id/explain', () => {
  const request = (seed: number) => ({
    partner_id: ids.partner, ip: '8.8.8.8', user_agent: IPHONE, accept_language: 'en-US,en;q=0.9', query: { sub1: 'camp 1' },
    at: '2026-03-04T12:00:00Z', seed,
  });

  it('returns the same winner and destination as the engine run directly with the same seed, and writes nothing', async () => {
    const before = await listings();
    const winners = new Set<number | null | undefined>();
    for (let seed = 1; seed <= 12; seed++) {
      const res = await call('POST', `/api/v1/smart-links/${ids.link}/explain`, request(seed));
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const ctx = contexts.build({
        transaction_id: '0'.repeat(32), time_ms: Date.parse('2026-03-04T12:00:00Z'), ip: '8.8.8.8', user_agent: IPHONE,
        accept_language: 'en-US,en;q=0.9', query: { sub1: 'camp 1' },
      });
      const direct = decide(await loadSnapshot(store), ids.link, ids.partner, ctx, allClear, seededRng(seed));
      expect(res.body.decision).toMatchObject({
        outcome: 'routed', entry_id: direct?.entry_id, offer_id: ids.iosOffer, offer_url_id: direct?.offer_url_id, destination_url: direct?.destination_url,
      });
      expect(res.body.decision.destination_url).toContain('s=camp%201');
      expect(res.body.draw?.roll).toBe(direct?.trace.draw?.roll);
      winners.add(direct?.entry_id);
    }
    // The seed decides the draw: an explain that ignored it would still match some seeds, not these.
    expect(winners.size).toBe(3);
    expect(await listings()).toEqual(before);
  });

  it('shows the parsed context, every entry with its checks, and the weight draw', async () => {
    const res = await call('POST', `/api/v1/smart-links/${ids.link}/explain`, request(42));
    expect(res.body.seed).toBe(42);
    expect(res.body.context).toMatchObject({ ip: '8.8.8.8', os: 'iOS', os_version: '17.2', device_type: 'mobile', browser: 'Safari', brand: 'Apple', language: 'en', geo: { country: 'US' } });
    expect(res.body.candidates).toHaveLength(4);
    const android = res.body.candidates[3];
    expect(android).toMatchObject({ eligible: false, reason: 4 });
    expect(android.checks.at(-1)).toMatchObject({ check: 'offer_ruleset', pass: false, reason: 4, dimension: 'os' });
    expect(res.body.draw.weights).toHaveLength(3);
  });

  it('a bot falls to the catch-all', async () => {
    const res = await call('POST', `/api/v1/smart-links/${ids.link}/explain`, { partner_id: ids.partner, user_agent: 'Googlebot/2.1 (+http://www.google.com/bot.html)' });
    expect(res.body.decision).toMatchObject({ outcome: 'catch_all', reason: 20, destination_url: 'https://fallback.example/' });
  });

  it('answers 404 for an unknown or deleted link, 400 for an unknown partner or bad body, 401 without a key', async () => {
    expect((await call('POST', '/api/v1/smart-links/999999/explain', { partner_id: ids.partner })).status).toBe(404);
    expect((await call('POST', `/api/v1/smart-links/${ids.link}/explain`, { partner_id: 999999 })).status).toBe(400);
    expect((await call('POST', `/api/v1/smart-links/${ids.link}/explain`, { partner_id: ids.partner, extra: 1 })).status).toBe(400);
    expect((await call('POST', `/api/v1/smart-links/${ids.link}/explain`, { partner_id: ids.partner, ip: 'not-an-ip' })).status).toBe(400);
    expect((await call('POST', `/api/v1/smart-links/${ids.link}/explain`, { partner_id: ids.partner }, null)).status).toBe(401);
    const doomed = await create('/smart-links', { name: 'doomed', entries: [{ offer_id: ids.iosOffer }] });
    expect((await call('DELETE', `/api/v1/smart-links/${doomed.id}`)).status).toBe(204);
    expect((await call('POST', `/api/v1/smart-links/${doomed.id}/explain`, { partner_id: ids.partner })).status).toBe(404);
  });

  it('is refused to partner keys', async () => {
    const key = (await call('POST', `/api/v1/partners/${ids.partner}/api-keys`)).body.key as string;
    expect((await call('POST', `/api/v1/smart-links/${ids.link}/explain`, { partner_id: ids.partner }, key)).status).toBe(403);
  });
});
