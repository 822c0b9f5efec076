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

/** An offer, a partner with a postback URL, and a tracking link of theirs, made through the API as today. */
async function linkOf(name: string) {
  const advertiser = await create(server, '/api/v1/advertisers', { name: `${name} advertiser` });
  const offer = await create(server, '/api/v1/offers', { advertiser_id: advertiser.id, name, destination_url: 'https://acme.example/land?tid={transaction_id}' });
  const partner = await create(server, '/api/v1/partners', { name: `${name} partner`, postback_url: 'https://pb.example/c?tid={transaction_id}' });
  const link = await create(server, '/api/v1/smart-links', { name: `${name} link`, entries: [{ offer_id: offer.id }] });
  const { token } = (await server.call('POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: partner.id })).body;
  return { offerId: offer.id as number, partnerId: partner.id as number, linkId: link.id as number, token: token as string };
}

/** Writes the URLs as versions before the host-macro check stored them (they accepted these), then reloads the routing configuration. */
async function storeAsOlderVersion(link: Awaited<ReturnType<typeof linkOf>>, destination: string, postbackUrl: string) {
  const db = new Database(path.join(server.dataDir, DATABASE_FILE));
  // A write bumps the version, an older version's write too: that is how a rebuild knows the record changed.
  db.prepare(`update offers set data = json_set(data, '$.destination_url', ?), version = version + 1 where id = ?`).run(destination, link.offerId);
  db.prepare(`update partners set data = json_set(data, '$.postback_url', ?), version = version + 1 where id = ?`).run(postbackUrl, link.partnerId);
  db.close();
  // Any change reloads the routing configuration from the store, as a restart does.
  expect((await server.call('PATCH', `/api/v1/smart-links/${link.linkId}`, { name: `Reloaded ${destination}` })).status).toBe(200);
}

describe('URLs an older version stored with a visitor macro in the host', () => {
  it('are never filled there: the stored destination and partner postback URL stay no open redirect after an upgrade', async () => {
    const link = await linkOf('Legacy');
    await storeAsOlderVersion(link, 'https://{sub1}/land?tid={transaction_id}&s={sub1}', 'https://{sub2}.pb.example/c?tid={transaction_id}&s={sub2}');

    const answer = await clickOn(server.url, link.token, { sub1: 'evil.example', sub2: 'evil2.example' });
    expect(answer.status).toBe(302);
    expect(answer.location).not.toMatch(/^https:\/\/evil\.example/);
    // The visitor's value still fills the same macro outside the host.
    expect(answer.location).toMatch(/^https:\/\/\{sub1\}\/land\?tid=[0-9a-f]+&s=evil\.example$/);

    const tid = transactionIdIn(answer.location);
    expect((await server.call('GET', `/postback?transaction_id=${tid}`, undefined, { key: null })).body.status).toBe('approved');
    const outbox = await server.call('GET', `/api/v1/partner-postbacks?partner_id=${link.partnerId}`);
    expect(outbox.body.data).toHaveLength(1);
    expect(outbox.body.data[0].url).toBe(`https://{sub2}.pb.example/c?tid=${tid}&s=evil2.example`);
  });

  it('are never filled where a browser or the postback client reads a host either: after http(s): with no slashes, one, three or backslashes', async () => {
    const link = await linkOf('Legacy 2');
    for (const [destination, postbackUrl] of [['https:{sub1}/land?tid={transaction_id}', 'https:///{sub2}/c'], ['https:///{sub1}/land?tid={transaction_id}', 'https:{sub2}/c'], ['https:\\\\{sub1}/land?tid={transaction_id}', 'https:/{sub2}/c']] as const) {
      await storeAsOlderVersion(link, destination, postbackUrl);

      const answer = await clickOn(server.url, link.token, { sub1: 'evil.example', sub2: 'evil2.example' });
      expect(answer.status).toBe(302);
      expect(new URL(answer.location ?? '').host, destination).not.toBe('evil.example');
      const tid = transactionIdIn(answer.location ?? '');
      expect((await server.call('GET', `/postback?transaction_id=${tid}`, undefined, { key: null })).body.status).toBe('approved');
      const outbox = await server.call('GET', `/api/v1/partner-postbacks?partner_id=${link.partnerId}`);
      const queued = outbox.body.data.find((p: { url: string }) => p.url.includes('{sub2}') || p.url.includes('evil2')).url as string;
      expect(queued, postbackUrl).toContain('{sub2}');
    }
  });

  it('a stored destination that is not http(s) is never sent: the click answers a blank page, not a redirect or a refresh to it', async () => {
    const link = await linkOf('Legacy 3');
    for (const destination of ['javascript:alert(document.cookie)//{transaction_id}', 'data:text/html,<script>alert(1)</script>']) {
      await storeAsOlderVersion(link, destination, 'https://pb.example/c?tid={transaction_id}');
      const answer = await clickOn(server.url, link.token);
      expect(answer.status, destination).toBe(200);
      expect(answer.location).toBeNull();
      expect(answer.body).toBe('');
    }
  });
});

describe('a partner postback URL with {event_id} in its host', () => {
  // event_id is whatever the conversion says: the cookie pixel is fired by the visitor's browser, and a
  // server postback for an offer without a secret needs only the transaction id the visitor saw.
  it('is refused by the API, like the other values a visitor writes', async () => {
    // {payout} too: on a percent payout it follows the conversion's amount, and a number is an IPv4 host.
    for (const postbackUrl of ['https://{event_id}/c?tid={transaction_id}', 'https://pb.example{event_id}/c', 'https:{event_id}/c', 'http://{payout}/c']) {
      const created = await server.call('POST', '/api/v1/partners', { name: 'Event host partner', postback_url: postbackUrl });
      expect(created.status, postbackUrl).toBe(400);
    }
  });

  it('stored by an older version, is never filled there: the conversion cannot choose where the postback goes', async () => {
    const link = await linkOf('Legacy event host');
    await storeAsOlderVersion(link, 'https://acme.example/land?tid={transaction_id}', 'https://{event_id}/c?tid={transaction_id}&e={event_id}');
    const tid = transactionIdIn((await clickOn(server.url, link.token)).location);
    expect((await server.call('GET', `/postback?transaction_id=${tid}`, undefined, { key: null })).body.status).toBe('approved');
    const converted = await server.call('GET', `/postback?transaction_id=${tid}&event_id=evil.example`, undefined, { key: null });
    expect(converted.body.status).toBe('approved');
    const outbox = await server.call('GET', `/api/v1/partner-postbacks?partner_id=${link.partnerId}`);
    const urls = outbox.body.data.map((p: { url: string }) => p.url) as string[];
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) expect(url).not.toMatch(/^https:\/\/evil\.example/);
    expect(urls).toContain(`https://{event_id}/c?tid=${tid}&e=evil.example`);
  });
});
