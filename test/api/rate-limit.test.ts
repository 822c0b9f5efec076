import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/api-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { API_RATE_LIMIT_PER_MINUTE: '5' } });
});
afterAll(async () => server.close());

describe('API rate limit', () => {
  it('a client over its per-minute budget gets 429 rate_limited with Retry-After, keys or not', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await server.call('GET', '/api/v1/advertisers', undefined, { key: i % 2 ? null : undefined })).status);
    expect(statuses).toEqual([200, 401, 200, 401, 200]);
    const limited = await server.call('GET', '/api/v1/advertisers');
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('operations endpoints are not limited', async () => {
    for (let i = 0; i < 10; i++) expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});

describe('API rate limit behind a trusted proxy that appends the client port', () => {
  let proxied: TestServer;
  beforeAll(async () => {
    proxied = await startServer({ env: { API_RATE_LIMIT_PER_MINUTE: '3', TRUST_PROXY: '127.0.0.1' } });
  });
  afterAll(async () => proxied.close());

  it('gives one client one budget across its connections, and another client its own', async () => {
    const from = async (address: string) => (await proxied.call('GET', '/api/v1/advertisers', undefined, { key: null, headers: { 'x-forwarded-for': address } })).status;
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push(await from(`203.0.113.7:${40000 + i}`));
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    expect(await from('203.0.113.8:40000')).toBe(401);
  });

  it('counts one client once however its address is written (IPv4-mapped IPv6 or not)', async () => {
    const from = async (address: string) => (await proxied.call('GET', '/api/v1/advertisers', undefined, { key: null, headers: { 'x-forwarded-for': address } })).status;
    const statuses = [];
    for (const address of ['198.51.100.9', '::ffff:198.51.100.9', '::FFFF:c633:6409', '198.51.100.9']) statuses.push(await from(address));
    expect(statuses).toEqual([401, 401, 401, 429]);
  });
});

