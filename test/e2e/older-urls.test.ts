import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../src/store/sqlite/index.js';
import { startServer, type TestServer } from '../support/api-server.js';
import { clickOn, transactionIdIn } from '../support/clicks.js';
import { create } from '../support/fixtures.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { POSTBACK_CONCURRENCY: '0' } });
});
afterAll(async () => server.close());

describe('URLs an older version stored with a visitor macro in the host', () => {
  it('are never filled there: the stored destination and partner postback URL stay no open redirect after an upgrade', async () => {
    const advertiser = await create(server, '/api/v1/advertisers', { name: 'Acme' });
    const offer = await create(server, '/api/v1/offers', { advertiser_id: advertiser.id, name: 'Legacy', destination_url: 'https://acme.example/land?tid={transaction_id}' });
    const partner = await create(server, '/api/v1/partners', { name: 'Legacy partner', postback_url: 'https://pb.example/c?tid={transaction_id}' });
    const link = await create(server, '/api/v1/smart-links', { name: 'Legacy link', entries: [{ offer_id: offer.id }] });
    const { token } = (await server.call('POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: partner.id })).body;
    // As versions before the host-macro check stored them (they accepted these URLs).
    const db = new Database(path.join(server.dataDir, DATABASE_FILE));
    db.prepare(`update offers set data = json_set(data, '$.destination_url', 'https://{sub1}/land?tid={transaction_id}&s={sub1}') where id = ?`).run(offer.id);
    db.prepare(`update partners set data = json_set(data, '$.postback_url', 'https://{sub2}.pb.example/c?tid={transaction_id}&s={sub2}') where id = ?`).run(partner.id);
    db.close();
    // Any change reloads the routing configuration from the store, as a restart does.
    expect((await server.call('PATCH', `/api/v1/smart-links/${link.id}`, { name: 'Reloaded' })).status).toBe(200);

    const answer = await clickOn(server.url, token, { sub1: 'evil.example', sub2: 'evil2.example' });
    expect(answer.status).toBe(302);
    expect(answer.location).not.toMatch(/^https:\/\/evil\.example/);
    // The visitor's value still fills the same macro outside the host.
    expect(answer.location).toMatch(/^https:\/\/\{sub1\}\/land\?tid=[0-9a-f]+&s=evil\.example$/);

    const tid = transactionIdIn(answer.location);
    expect((await server.call('GET', `/postback?transaction_id=${tid}`, undefined, { key: null })).body.status).toBe('approved');
    const outbox = await server.call('GET', `/api/v1/partner-postbacks?partner_id=${partner.id}`);
    expect(outbox.body.data).toHaveLength(1);
    expect(outbox.body.data[0].url).toBe(`https://{sub2}.pb.example/c?tid=${tid}&s=evil2.example`);
  });

  it('are never filled where a browser or the postback client reads a host either: after http(s): with no slashes, one, three or backslashes', async () => {
    const advertiser = await create(server, '/api/v1/advertisers', { name: 'Acme 2' });
    const offer = await create(server, '/api/v1/offers', { advertiser_id: advertiser.id, name: 'Legacy 2', destination_url: 'https://acme.example/land' });
    const partner = await create(server, '/api/v1/partners', { name: 'Legacy partner 2', postback_url: 'https://pb.example/c?tid={transaction_id}' });
    const link = await create(server, '/api/v1/smart-links', { name: 'Legacy link 2', entries: [{ offer_id: offer.id }] });
    const { token } = (await server.call('POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: partner.id })).body;
    for (const [destination, postbackUrl] of [['https:{sub1}/land?tid={transaction_id}', 'https:///{sub2}/c'], ['https:///{sub1}/land?tid={transaction_id}', 'https:{sub2}/c'], ['https:\\\\{sub1}/land?tid={transaction_id}', 'https:/{sub2}/c']] as const) {
      const db = new Database(path.join(server.dataDir, DATABASE_FILE));
      db.prepare(`update offers set data = json_set(data, '$.destination_url', ?) where id = ?`).run(destination, offer.id);
      db.prepare(`update partners set data = json_set(data, '$.postback_url', ?) where id = ?`).run(postbackUrl, partner.id);
      db.close();
      expect((await server.call('PATCH', `/api/v1/smart-links/${link.id}`, { name: `Reloaded ${destination}` })).status).toBe(200);

      const answer = await clickOn(server.url, token, { sub1: 'evil.example', sub2: 'evil2.example' });
      expect(answer.status).toBe(302);
      expect(new URL(answer.location ?? '').host, destination).not.toBe('evil.example');
      const tid = transactionIdIn(answer.location ?? '');
      expect((await server.call('GET', `/postback?transaction_id=${tid}`, undefined, { key: null })).body.status).toBe('approved');
      const outbox = await server.call('GET', `/api/v1/partner-postbacks?partner_id=${partner.id}`);
      const queued = outbox.body.data.find((p: { url: string }) => p.url.includes('{sub2}') || p.url.includes('evil2')).url as string;
      expect(queued, postbackUrl).toContain('{sub2}');
    }
  });
});
