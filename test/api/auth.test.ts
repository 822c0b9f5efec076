import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdminKey } from '../../src/http/auth.js';
import { startServer, tempDir, type TestServer } from '../support/api-server.js';
import { clickOn, transactionIdIn } from '../support/clicks.js';
import { basicNetwork, create } from '../support/fixtures.js';

let server: TestServer;
let partnerKey: string;
let network: Awaited<ReturnType<typeof basicNetwork>>;
let otherPartnerId: number;

beforeAll(async () => {
  server = await startServer();
  network = await basicNetwork(server);
  otherPartnerId = (await create(server, '/api/v1/partners', { name: 'Someone else' })).id;
  partnerKey = (await server.call('POST', `/api/v1/partners/${network.partner.id}/api-keys`)).body.key;
});
afterAll(async () => server.close());

describe('API keys and roles', () => {
  it('a request without a key is refused with 401', async () => {
    const res = await server.call('GET', '/api/v1/offers', undefined, { key: null });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
  });

  it.each([
    ['a made-up key', 'sy_1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['garbage', 'not-a-key'],
    ['the admin key with one character changed', 'test-admin-key-0123456788'],
  ])('%s is refused with 401', async (_label, key) => {
    expect((await server.call('GET', '/api/v1/advertisers', undefined, { key })).status).toBe(401);
  });

  it('a partner key with its secret altered is refused', async () => {
    const altered = partnerKey.slice(0, -1) + (partnerKey.endsWith('A') ? 'B' : 'A');
    expect((await server.call('GET', `/api/v1/partners/${network.partner.id}`, undefined, { key: altered })).status).toBe(401);
  });

  it('a partner cannot create, change or delete anything', async () => {
    const attempts = [
      server.call('POST', '/api/v1/offers', { advertiser_id: network.advertiser.id, name: 'x', destination_url: 'https://x.example/' }, { key: partnerKey }),
      server.call('PATCH', `/api/v1/smart-links/${network.smartLink.id}`, { name: 'mine now' }, { key: partnerKey }),
      server.call('DELETE', `/api/v1/advertisers/${network.advertiser.id}`, undefined, { key: partnerKey }),
      server.call('POST', `/api/v1/partners/${network.partner.id}/api-keys`, undefined, { key: partnerKey }),
      server.call('PUT', `/api/v1/offers/${network.offer.id}/access/${network.partner.id}`, { state: 'approved' }, { key: partnerKey }),
      server.call('PUT', '/api/v1/settings', { global_fail_redirect_url: null }, { key: partnerKey }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }
    expect((await server.call('GET', `/api/v1/smart-links/${network.smartLink.id}`)).body.name).toBe('Games bundle');
  });

  it('a partner key on an admin route is refused with 403 however its request is written, not told how to write it (SPEC §3: wrong role → 403)', async () => {
    const attempts = [
      server.call('POST', '/api/v1/advertisers', {}, { key: partnerKey }),
      server.call('PATCH', `/api/v1/offers/${network.offer.id}`, { payout: { type: 'fixed', value: -1 } }, { key: partnerKey }),
      server.call('DELETE', '/api/v1/tracking-domains/abc', undefined, { key: partnerKey }),
      server.call('PUT', `/api/v1/offers/${network.offer.id}/access/${network.partner.id}`, { state: 'mine' }, { key: partnerKey }),
      server.call('PUT', '/api/v1/settings', { global_fail_redirect_url: 'not a url' }, { key: partnerKey }),
      server.call('GET', '/api/v1/offers?advertiser_id=x', undefined, { key: partnerKey }),
      server.call('GET', '/api/v1/notifications?page=0', undefined, { key: partnerKey }),
      server.call('POST', `/api/v1/smart-links/${network.smartLink.id}/explain`, { partner_id: 'me' }, { key: partnerKey }),
      server.call('GET', `/api/v1/smart-links/${network.smartLink.id}/kpi/runs?from=yesterday`, undefined, { key: partnerKey }),
    ];
    const answers = (await Promise.all(attempts)).map((res) => `${res.status} ${res.body.error?.code}`);
    expect(answers).toEqual(attempts.map(() => '403 forbidden'));
  });

  it('a partner reads itself but not other partners, offers or advertisers', async () => {
    expect((await server.call('GET', `/api/v1/partners/${network.partner.id}`, undefined, { key: partnerKey })).status).toBe(200);
    expect((await server.call('GET', `/api/v1/partners/${otherPartnerId}`, undefined, { key: partnerKey })).status).toBe(404);
    expect((await server.call('GET', '/api/v1/partners', undefined, { key: partnerKey })).status).toBe(403);
    expect((await server.call('GET', '/api/v1/offers', undefined, { key: partnerKey })).status).toBe(403);
    expect((await server.call('GET', `/api/v1/advertisers/${network.advertiser.id}`, undefined, { key: partnerKey })).status).toBe(403);
  });

  it('a partner key cannot tell an id it may not see from one that does not exist', async () => {
    const asPartner = { key: partnerKey };
    const pairs: [string, string][] = [
      [`/api/v1/smart-links/${network.smartLink.id}`, '/api/v1/smart-links/999999'],
      [`/api/v1/smart-links/${network.smartLink.id}/tracking-links`, '/api/v1/smart-links/999999/tracking-links'],
      [`/api/v1/partners/${otherPartnerId}`, '/api/v1/partners/999999'],
      [`/api/v1/advertisers/${network.advertiser.id}`, '/api/v1/advertisers/999999'],
      [`/api/v1/offers/${network.offer.id}/urls`, '/api/v1/offers/999999/urls'],
    ];
    for (const [existing, missing] of pairs) {
      const [a, b] = [await server.call('GET', existing, undefined, asPartner), await server.call('GET', missing, undefined, asPartner)];
      expect([a.status, a.body], existing).toEqual([b.status, b.body]);
    }
    const mint = (id: number) => server.call('POST', `/api/v1/smart-links/${id}/tracking-links`, {}, asPartner);
    const [a, b] = [await mint(network.smartLink.id), await mint(999999)];
    expect([a.status, a.body]).toEqual([b.status, b.body]);
  });

  it("a partner reads its own clicks; another partner's click answers 404, as a missing one does", async () => {
    const clickBy = async (partnerId: number) => {
      const token = (await server.call('POST', `/api/v1/smart-links/${network.smartLink.id}/tracking-links`, { partner_id: partnerId })).body.token as string;
      return transactionIdIn((await clickOn(server.url, token)).location, 'click');
    };
    const own = await clickBy(network.partner.id);
    const others = await clickBy(otherPartnerId);
    expect((await server.call('GET', `/api/v1/clicks/${own}`, undefined, { key: partnerKey })).body).toMatchObject({ transaction_id: own, partner_id: network.partner.id });
    const foreign = await server.call('GET', `/api/v1/clicks/${others}`, undefined, { key: partnerKey });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('not_found');
    expect(JSON.stringify(foreign.body)).not.toContain(others);
    expect((await server.call('GET', `/api/v1/clicks/${others}`)).body.partner_id).toBe(otherPartnerId);
  });

  it('a partner sees only smart links made visible to partners', async () => {
    const hidden = network.smartLink;
    const visible = await create(server, '/api/v1/smart-links', {
      name: 'Open to partners',
      visible_to_partners: true,
      entries: [{ offer_id: network.offer.id }],
    });
    const list = await server.call('GET', '/api/v1/smart-links?page_size=500', undefined, { key: partnerKey });
    const ids = list.body.data.map((l: { id: number }) => l.id);
    expect(ids).toContain(visible.id);
    expect(ids).not.toContain(hidden.id);
    expect((await server.call('GET', `/api/v1/smart-links/${visible.id}`, undefined, { key: partnerKey })).status).toBe(200);
    expect((await server.call('GET', `/api/v1/smart-links/${hidden.id}`, undefined, { key: partnerKey })).status).toBe(404);
  });

  it("a partner is not shown a visible smart link's warnings, which name other offers' states", async () => {
    const paused = await create(server, '/api/v1/offers', { advertiser_id: network.advertiser.id, name: 'Paused', destination_url: 'https://paused.example/', status: 'paused' });
    const link = await create(server, '/api/v1/smart-links', { name: 'Warned', visible_to_partners: true, entries: [{ offer_id: network.offer.id }, { offer_id: paused.id }] });
    expect((await server.call('GET', `/api/v1/smart-links/${link.id}`)).body.warnings).toEqual([expect.stringContaining(`offer ${paused.id} is paused`)]);
    expect((await server.call('GET', `/api/v1/smart-links/${link.id}`, undefined, { key: partnerKey })).body).toMatchObject({ id: link.id, warnings: [] });
    const listed = await server.call('GET', '/api/v1/smart-links?page_size=500', undefined, { key: partnerKey });
    expect(listed.body.data.find((l: { id: number }) => l.id === link.id)).toMatchObject({ name: 'Warned', warnings: [] });
  });

  it('a partner never lists a deleted smart link, not even by asking for status=deleted', async () => {
    const gone = await create(server, '/api/v1/smart-links', { name: 'Gone', visible_to_partners: true, entries: [{ offer_id: network.offer.id }] });
    expect((await server.call('DELETE', `/api/v1/smart-links/${gone.id}`)).status).toBe(204);
    for (const query of ['', '&status=deleted']) {
      const list = await server.call('GET', `/api/v1/smart-links?page_size=500${query}`, undefined, { key: partnerKey });
      expect(list.status).toBe(200);
      expect(list.body.data.map((l: { id: number }) => l.id), query).not.toContain(gone.id);
    }
    // The admin still finds it that way.
    const admin = await server.call('GET', '/api/v1/smart-links?page_size=500&status=deleted');
    expect(admin.body.data.map((l: { id: number }) => l.id)).toContain(gone.id);
  });

  it('deleting a partner revokes its keys', async () => {
    const partner = await create(server, '/api/v1/partners', { name: 'Short-lived' });
    const key = (await server.call('POST', `/api/v1/partners/${partner.id}/api-keys`)).body.key;
    expect((await server.call('GET', `/api/v1/partners/${partner.id}`, undefined, { key })).status).toBe(200);
    expect((await server.call('DELETE', `/api/v1/partners/${partner.id}`)).status).toBe(204);
    expect((await server.call('GET', `/api/v1/partners/${partner.id}`, undefined, { key })).status).toBe(401);
  });
});

describe('revoking an admin key', () => {
  it('the key generated on first start can be revoked, and the next start generates and shows a new one', async () => {
    const dataDir = tempDir();
    // No SWITCHYARD_ADMIN_KEY: as on a first start, a key is generated (main.ts prints it).
    let first: TestServer | undefined = await startServer({ dataDir, env: { SWITCHYARD_ADMIN_KEY: '' } });
    try {
      const generated = await bootstrapAdminKey(first.store, undefined);
      expect(generated).toMatch(/^sy_\d+_/);
      const id = Number(/^sy_(\d+)_/.exec(generated ?? '')?.[1]);
      const asAdmin = { key: generated ?? null };
      expect((await first.call('GET', '/api/v1/advertisers', undefined, asAdmin)).status).toBe(200);
      // Partner keys cannot revoke keys; an unknown id is 404.
      const partnerId = (await first.call('POST', '/api/v1/partners', { name: 'P' }, asAdmin)).body.id;
      const partnerKey = (await first.call('POST', `/api/v1/partners/${partnerId}/api-keys`, undefined, asAdmin)).body.key;
      expect((await first.call('DELETE', `/api/v1/api-keys/${id}`, undefined, { key: partnerKey })).status).toBe(403);
      expect((await first.call('DELETE', '/api/v1/api-keys/999999', undefined, asAdmin)).status).toBe(404);

      // The leaked key is revoked (with itself: it is the only admin key) and refused at once.
      expect((await first.call('DELETE', `/api/v1/api-keys/${id}`, undefined, asAdmin)).status).toBe(204);
      expect((await first.call('GET', '/api/v1/advertisers', undefined, asAdmin)).status).toBe(401);
      await first.close();
      first = undefined;

      const second = await startServer({ dataDir, env: { SWITCHYARD_ADMIN_KEY: '' } });
      try {
        const replacement = await bootstrapAdminKey(second.store, undefined);
        expect(replacement).toMatch(/^sy_\d+_/);
        expect((await second.call('GET', '/api/v1/advertisers', undefined, { key: replacement ?? null })).status).toBe(200);
        expect((await second.call('GET', '/api/v1/advertisers', undefined, asAdmin)).status).toBe(401);
      } finally {
        await second.close();
      }
    } finally {
      await first?.close();
    }
  });
});

describe('listing API keys', () => {
  it("an admin lists stored keys oldest first, or one partner's, with ids to revoke and never a secret; a partner key may not", async () => {
    const server = await startServer();
    try {
      const partnerId = (await server.call('POST', '/api/v1/partners', { name: 'Keyed' })).body.id;
      const minted = (await server.call('POST', `/api/v1/partners/${partnerId}/api-keys`)).body;
      const all = await server.call('GET', '/api/v1/api-keys');
      expect(all.status).toBe(200);
      expect(all.body.data.at(-1)).toEqual({ id: minted.id, role: 'partner', partner_id: partnerId, created_at: expect.any(String) });
      expect(JSON.stringify(all.body)).not.toMatch(/secret|hash|sy_/);
      const own = await server.call('GET', `/api/v1/api-keys?partner_id=${partnerId}`);
      expect(own.body).toMatchObject({ total: 1, data: [{ id: minted.id }] });
      expect((await server.call('GET', '/api/v1/api-keys', undefined, { key: minted.key })).status).toBe(403);
      expect((await server.call('DELETE', `/api/v1/api-keys/${minted.id}`)).status).toBe(204);
      expect((await server.call('GET', `/api/v1/api-keys?partner_id=${partnerId}`)).body.total).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('a misspelt filter on the key list is refused, as on every other list, instead of listing every key', async () => {
    const partnerId = (await create(server, '/api/v1/partners', { name: 'Typo' })).id;
    await server.call('POST', `/api/v1/partners/${partnerId}/api-keys`);
    // A script about to revoke "the partner's keys" must not be handed the admin keys and everyone else's.
    for (const query of [`partnerId=${partnerId}`, `partner=${partnerId}`]) {
      const listed = await server.call('GET', `/api/v1/api-keys?${query}`);
      expect(listed.status, query).toBe(400);
      expect(listed.body.error.code).toBe('validation_failed');
      expect(listed.body.error.details[0].path).toMatch(/^query\./);
    }
  });
});
