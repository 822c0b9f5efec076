import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../src/store/sqlite/index.js';
import { startServer, type TestServer } from '../support/api-server.js';
import { basicNetwork, create } from '../support/fixtures.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server.close());

describe('data an older version stored, read after an upgrade', () => {
  it('a URL the API now refuses (a visitor macro in its host) is still read, listed and edited around', async () => {
    const n = await basicNetwork(server);
    const partner = await create(server, '/api/v1/partners', { name: 'Sub-domain postbacks', postback_url: 'https://pb.example/c?id={conversion_id}' });
    const failTraffic = { mode: 'priority', destinations: [{ type: 'url', url: 'https://ft.example/' }] };
    expect((await server.call('PATCH', `/api/v1/offers/${n.offer.id}`, { fail_traffic: failTraffic })).status).toBe(200);
    expect((await server.call('PUT', '/api/v1/settings', { global_fail_redirect_url: 'https://fail.example/' })).status).toBe(200);
    // As versions before the host-macro check stored them (they accepted these URLs).
    const db = new Database(path.join(server.dataDir, DATABASE_FILE));
    db.prepare(`update partners set data = json_set(data, '$.postback_url', 'https://{sub1}.pb.example/c?id={conversion_id}') where id = ?`).run(partner.id);
    db.prepare(`update offers set data = json_set(data, '$.fail_traffic.destinations[0].url', 'https://{sub2}/ft') where id = ?`).run(n.offer.id);
    db.prepare(`update settings set value = json_set(value, '$.global_fail_redirect_url', 'https://{source_id}/fail') where key = 'network'`).run();
    db.close();

    const read = await server.call('GET', `/api/v1/partners/${partner.id}`);
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    expect(read.body.postback_url).toBe('https://{sub1}.pb.example/c?id={conversion_id}');
    expect((await server.call('GET', '/api/v1/partners?page_size=500')).status).toBe(200);
    const renamed = await server.call('PATCH', `/api/v1/partners/${partner.id}`, { name: 'Renamed' });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);

    const offer = await server.call('GET', `/api/v1/offers/${n.offer.id}`);
    expect(offer.status, JSON.stringify(offer.body)).toBe(200);
    expect(offer.body.fail_traffic.destinations[0].url).toBe('https://{sub2}/ft');
    expect((await server.call('GET', '/api/v1/offers?page_size=500')).status).toBe(200);

    const settings = await server.call('GET', '/api/v1/settings');
    expect(settings.status, JSON.stringify(settings.body)).toBe(200);
    expect(settings.body.global_fail_redirect_url).toBe('https://{source_id}/fail');
    // Writing the value again is what the API refuses, saying why.
    const again = await server.call('PATCH', `/api/v1/partners/${partner.id}`, { postback_url: read.body.postback_url });
    expect(again.status).toBe(400);
  });

  it("an offer's expires_at stored with an offset (earlier versions kept the offset) is answered in UTC, as SPEC §2 stores times", async () => {
    const n = await basicNetwork(server);
    const db = new Database(path.join(server.dataDir, DATABASE_FILE));
    db.prepare(`update offers set data = json_set(data, '$.expires_at', '2020-01-01T09:00:00+09:00') where id = ?`).run(n.offer.id);
    db.close();

    const offer = await server.call('GET', `/api/v1/offers/${n.offer.id}`);
    expect(offer.status, JSON.stringify(offer.body)).toBe(200);
    expect(offer.body.expires_at).toBe('2020-01-01T00:00:00.000Z');
    const listed = await server.call('GET', '/api/v1/offers?page_size=500');
    expect(listed.body.data.find((o: { id: number }) => o.id === n.offer.id).expires_at).toBe('2020-01-01T00:00:00.000Z');
    const link = await server.call('GET', `/api/v1/smart-links/${n.smartLink.id}`);
    expect(link.body.warnings.join('\n')).toContain('expired at 2020-01-01T00:00:00.000Z');
  });
});
