import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../src/store/sqlite/index.js';
import { startServer, tempDir, type TestServer } from '../support/api-server.js';
import { clickOn, transactionIdIn } from '../support/clicks.js';
import { create } from '../support/fixtures.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const env = { TRUST_PROXY: 'loopback' };
const from = (ip: string) => ({ 'x-forwarded-for': ip });

describe('visitor memory over clicks an older version stored', () => {
  it('an address stored IPv4-mapped (::ffff:8.8.4.4, a dual-stack listener) is the same visitor as 8.8.4.4 after a restart', async () => {
    const dataDir = tempDir();
    server = await startServer({ dataDir, env });
    const advertiser = await create(server, '/api/v1/advertisers', { name: 'Acme' });
    const fallback = await create(server, '/api/v1/offers', { advertiser_id: advertiser.id, name: 'Fallback', destination_url: 'https://fallback.example/?tid={transaction_id}' });
    const once = await create(server, '/api/v1/offers', {
      advertiser_id: advertiser.id, name: 'Once per IP', destination_url: 'https://once.example/?tid={transaction_id}',
      duplicate_filter: { enabled: true, identifier: 'ip', window_hours: 24 },
    });
    const converted = await create(server, '/api/v1/offers', {
      advertiser_id: advertiser.id, name: 'Until converted', destination_url: 'https://conv.example/?tid={transaction_id}',
      duplicate_filter: { enabled: false, identifier: 'ip' }, block_already_converted: true,
    });
    const partner = await create(server, '/api/v1/partners', { name: 'Traffic' });
    const tokenFor = async (offerId: number) => {
      const link = await create(server!, '/api/v1/smart-links', { name: `Link ${offerId}`, catch_all_offer_id: fallback.id, entries: [{ offer_id: offerId }] });
      return (await server!.call('POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: partner.id })).body.token as string;
    };
    const onceToken = await tokenFor(once.id);
    const convertedToken = await tokenFor(converted.id);
    expect((await clickOn(server.url, onceToken, {}, from('8.8.4.4'))).location).toMatch(/^https:\/\/once\.example\//);
    const convertedTid = transactionIdIn((await clickOn(server.url, convertedToken, {}, from('8.8.4.4'))).location);
    await server.close();
    server = undefined;
    // As an older version stored these clicks, before addresses had one spelling.
    const db = new Database(path.join(dataDir, DATABASE_FILE));
    expect(db.prepare(`update clicks set ip = '::ffff:8.8.4.4' where ip = '8.8.4.4'`).run().changes).toBe(2);
    db.close();

    server = await startServer({ dataDir, env });
    // The duplicate memory rebuilt at start knows the visitor.
    expect((await clickOn(server.url, onceToken, {}, from('8.8.4.4'))).location).toMatch(/^https:\/\/fallback\.example\//);
    // A conversion of the stored click marks the visitor converted.
    expect((await server.call('GET', `/postback?transaction_id=${convertedTid}`, undefined, { key: null })).body.status).toBe('approved');
    expect((await clickOn(server.url, convertedToken, {}, from('8.8.4.4'))).location).toMatch(/^https:\/\/fallback\.example\//);
  });
});
