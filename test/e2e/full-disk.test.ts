import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../support/api-server.js';
import { callApi, killServerProcesses, startServerProcess } from '../support/server-process.js';

const ADMIN_KEY = 'full-disk-admin-key-0123456789';
afterEach(() => killServerProcesses());

/** The largest file in `dir`, in KiB rounded up. */
const largestKiB = (dir: string) => Math.ceil(Math.max(...fs.readdirSync(dir).map((name) => fs.statSync(path.join(dir, name)).size)) / 1024);

describe('API writes when the database cannot grow (a full disk)', () => {
  it('answer 503 naming the cause, log it (not a failed rollback), and store nothing of the refused write', async () => {
    const dataDir = tempDir();
    const env = { DATA_DIR: dataDir, SWITCHYARD_ADMIN_KEY: ADMIN_KEY };
    // The first start creates the database with room to spare; the second may grow it a little only.
    await (await startServerProcess(env)).stop();
    const server = await startServerProcess(env, 15_000, undefined, { fileSizeLimitKiB: largestKiB(dataDir) + 64 });
    const api = (method: string, route: string, body?: unknown) => callApi(server.url, ADMIN_KEY, method, route, body);
    const advertiser = await api('POST', '/api/v1/advertisers', { name: 'Acme' });
    expect(advertiser.status).toBe(201);
    const converting = await api('POST', '/api/v1/offers', { advertiser_id: advertiser.body.id, name: 'Converting', destination_url: 'https://shop.example/?tid={transaction_id}' });
    const partner = await api('POST', '/api/v1/partners', { name: 'Partner' });
    const link = await api('POST', '/api/v1/smart-links', { name: 'Link', entries: [{ offer_id: converting.body.id }] });
    const token = (await api('POST', `/api/v1/smart-links/${link.body.id}/tracking-links`, { partner_id: partner.body.id })).body.token as string;
    const click = await fetch(`${server.url}/sl/${token}`, { redirect: 'manual' });
    const transactionId = /tid=([0-9a-f]+)/.exec(click.headers.get('location') ?? '')?.[1] ?? '';
    expect(transactionId).not.toBe('');

    // Offers of several KiB each, until the database has no room for the next one.
    const hosts = Array.from({ length: 100 }, (_, i) => `host-${i}-${'x'.repeat(50)}.example.com`);
    let stored = 0;
    let refused: { status: number; body: any } | undefined;
    for (let i = 0; i < 200 && refused === undefined; i++) {
      const answer = await api('POST', '/api/v1/offers', {
        advertiser_id: advertiser.body.id, name: `Offer ${i}`, destination_url: 'https://shop.example/', deep_link: { enabled: true, allowed_hosts: hosts },
      });
      if (answer.status === 201) stored += 1;
      else refused = answer;
    }
    expect(refused, 'the limit was never reached').toBeDefined();
    expect(refused?.status, JSON.stringify(refused?.body)).toBe(503);
    expect(refused?.body.error.code).toBe('unavailable');
    expect(refused?.body.error.message).toMatch(/database could not be (read or )?written/);

    // An advertiser's postback is refused the same way (its server sends it again later), not lost to a 500.
    const postback = await fetch(`${server.url}/postback?transaction_id=${transactionId}&order_id=A-1`);
    const answer = (await postback.json()) as { error?: { code: string } };
    expect(postback.status, JSON.stringify(answer)).toBe(503);
    expect(answer.error?.code).toBe('unavailable');

    // Reads still work, and the refused offer and conversion are nowhere.
    const listed = await api('GET', '/api/v1/offers?page_size=500');
    expect(listed.status).toBe(200);
    expect(listed.body.total).toBe(stored + 1);
    expect((await api('GET', '/api/v1/conversions')).body.total).toBe(0);
    // The operator reads the cause in the log, not SQLite's complaint about a rollback it already did.
    expect(server.output()).not.toContain('cannot rollback');
    expect(server.output()).toMatch(/SQLITE_(IOERR|FULL)/);
  });
});
