import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../src/store/sqlite/index.js';
import { startServer, type TestServer } from '../support/api-server.js';
import { clickOn } from '../support/clicks.js';
import { basicNetwork, create } from '../support/fixtures.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server.close());

describe('management API round trips', () => {
  it('advertisers are created with defaults, read, listed, patched and deleted', async () => {
    const created = await create(server, '/api/v1/advertisers', { name: 'Round Trip Ltd' });
    expect(created).toMatchObject({ name: 'Round Trip Ltd', status: 'active', default_currency: 'USD', version: 1 });

    const read = await server.call('GET', `/api/v1/advertisers/${created.id}`);
    expect(read.body).toEqual(created);

    const list = await server.call('GET', '/api/v1/advertisers?page=1&page_size=500');
    expect(list.body).toMatchObject({ page: 1, page_size: 500 });
    expect(list.body.data.map((a: { id: number }) => a.id)).toContain(created.id);
    expect(list.body.total).toBe(list.body.data.length);

    const patched = await server.call('PATCH', `/api/v1/advertisers/${created.id}`, { status: 'inactive' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Round Trip Ltd', status: 'inactive', version: 2 });

    expect((await server.call('DELETE', `/api/v1/advertisers/${created.id}`)).status).toBe(204);
    expect((await server.call('GET', `/api/v1/advertisers/${created.id}`)).status).toBe(404);
  });

  it('an advertiser with live offers cannot be deleted; once they are deleted it can, and stays only as their name', async () => {
    const advertiser = await create(server, '/api/v1/advertisers', { name: 'Gone Ltd' });
    const offer = await create(server, '/api/v1/offers', { advertiser_id: advertiser.id, name: 'old', destination_url: 'https://gone.example/' });
    const refused = await server.call('DELETE', `/api/v1/advertisers/${advertiser.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('conflict');
    expect((await server.call('DELETE', `/api/v1/offers/${offer.id}`)).status).toBe(204);
    expect((await server.call('DELETE', `/api/v1/advertisers/${advertiser.id}`)).status).toBe(204);
    expect((await server.call('GET', `/api/v1/advertisers/${advertiser.id}`)).body.status).toBe('deleted');
    const listed = await server.call('GET', '/api/v1/advertisers?page_size=500');
    expect(listed.body.data.map((a: { id: number }) => a.id)).not.toContain(advertiser.id);
    const again = await server.call('POST', '/api/v1/offers', { advertiser_id: advertiser.id, name: 'new', destination_url: 'https://gone.example/' });
    expect(again.status).toBe(400);
    expect(again.body.error.details[0].path).toBe('advertiser_id');
  });

  it('an advertiser whose offers were moved to another keeps its name in reports of the traffic it had', async () => {
    const before = await create(server, '/api/v1/advertisers', { name: 'Sold Ltd' });
    const after = await create(server, '/api/v1/advertisers', { name: 'Buyer Ltd' });
    const offer = await create(server, '/api/v1/offers', { advertiser_id: before.id, name: 'moved', destination_url: 'https://moved.example/' });
    const partner = await create(server, '/api/v1/partners', { name: 'Mover traffic' });
    const link = await create(server, '/api/v1/smart-links', { name: 'Moved', entries: [{ offer_id: offer.id }] });
    const token = (await server.call('POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: partner.id })).body.token;
    expect((await clickOn(server.url, token)).status).toBe(302);
    // The 409 says "delete or move them first": moving the offer frees the advertiser.
    expect((await server.call('PATCH', `/api/v1/offers/${offer.id}`, { advertiser_id: after.id })).status).toBe(200);
    expect((await server.call('DELETE', `/api/v1/advertisers/${before.id}`)).status).toBe(204);
    // Its click still names it, so it stays, deleted, as one whose deleted offers name it does.
    const read = await server.call('GET', `/api/v1/advertisers/${before.id}`);
    expect(read.status).toBe(200);
    expect(read.body.status).toBe('deleted');
    const report = await server.call('GET', `/api/v1/reports?group_by=advertiser&filter[smart_link]=${link.id}`);
    expect(report.body.rows).toEqual([expect.objectContaining({ advertiser_id: before.id, advertiser_name: 'Sold Ltd', clicks: 1 })]);
  });

  it('what live fail traffic sends visitors to (an offer, its URLs, a smart link) cannot be deleted until the fail traffic changes', async () => {
    const n = await basicNetwork(server);
    const backup = await create(server, '/api/v1/offers', { advertiser_id: n.advertiser.id, name: 'backup', destination_url: 'https://backup.example/' });
    const backupUrl = await create(server, `/api/v1/offers/${backup.id}/urls`, { name: 'u', destination_url: 'https://backup.example/u' });
    const main = await create(server, '/api/v1/offers', {
      advertiser_id: n.advertiser.id, name: 'main', destination_url: 'https://main.example/',
      fail_traffic: { mode: 'priority', destinations: [{ type: 'offer_url', id: backupUrl.id }, { type: 'smart_link', id: n.smartLink.id }] },
    });
    for (const path of [`/api/v1/offers/${backup.id}`, `/api/v1/offers/${backup.id}/urls/${backupUrl.id}`, `/api/v1/smart-links/${n.smartLink.id}`]) {
      const refused = await server.call('DELETE', path);
      expect(refused.status, path).toBe(409);
      expect(refused.body.error.message, path).toContain(`offer(s) ${main.id}`);
    }
    expect((await server.call('PATCH', `/api/v1/smart-links/${n.smartLink.id}`, { status: 'deleted' })).status).toBe(409);
    expect((await server.call('PATCH', `/api/v1/offers/${main.id}`, { status: 'paused' })).status).toBe(200);
    expect((await server.call('PATCH', `/api/v1/offers/${main.id}`, { fail_traffic: null })).status).toBe(200);
    expect((await server.call('DELETE', `/api/v1/offers/${backup.id}`)).status).toBe(204);
    expect((await server.call('DELETE', `/api/v1/smart-links/${n.smartLink.id}`)).status).toBe(204);

    // An offer brought back from deleted has its fail traffic checked again: its targets were free to go.
    const revivable = await create(server, '/api/v1/offers', {
      advertiser_id: n.advertiser.id, name: 'revivable', destination_url: 'https://revivable.example/',
      fail_traffic: { mode: 'priority', destinations: [{ type: 'offer', id: main.id }] },
    });
    expect((await server.call('DELETE', `/api/v1/offers/${revivable.id}`)).status).toBe(204);
    const spare = await create(server, '/api/v1/offers', { advertiser_id: n.advertiser.id, name: 'spare', destination_url: 'https://spare.example/' });
    expect((await server.call('PATCH', `/api/v1/offers/${revivable.id}`, { fail_traffic: { mode: 'priority', destinations: [{ type: 'offer', id: spare.id }] } })).status).toBe(200);
    expect((await server.call('DELETE', `/api/v1/offers/${spare.id}`)).status).toBe(204);
    const revived = await server.call('PATCH', `/api/v1/offers/${revivable.id}`, { status: 'active' });
    expect(revived.status).toBe(400);
    expect(revived.body.error.details[0].path).toBe('fail_traffic.destinations[0].id');

    // An offer whose own fail traffic names one of its URLs goes with it.
    const selfUrl = await create(server, `/api/v1/offers/${main.id}/urls`, { name: 'own', destination_url: 'https://main.example/own' });
    expect((await server.call('PATCH', `/api/v1/offers/${main.id}`, { fail_traffic: { mode: 'priority', destinations: [{ type: 'offer_url', id: selfUrl.id }] } })).status).toBe(200);
    expect((await server.call('DELETE', `/api/v1/offers/${main.id}`)).status).toBe(204);
  });

  it('a request without a body is served when its client still sends Content-Type: application/json', async () => {
    // Clients with a session-wide JSON content type (Python requests, many SDK wrappers) send it, and
    // Content-Length: 0, on every DELETE and on POSTs that take no body.
    const json = { headers: { 'content-type': 'application/json' } };
    const partner = await create(server, '/api/v1/partners', { name: 'Session headers' });
    const minted = await server.call('POST', `/api/v1/partners/${partner.id}/api-keys`, '', json);
    expect(minted.status, JSON.stringify(minted.body)).toBe(201);
    const revoked = await server.call('DELETE', `/api/v1/partners/${partner.id}/api-keys/${minted.body.id}`, '', json);
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(204);
    const deleted = await server.call('DELETE', `/api/v1/partners/${partner.id}`, '', json);
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(204);
    expect((await server.call('GET', `/api/v1/partners/${partner.id}`)).status).toBe(404);
    // A route that needs a body still says so.
    const empty = await server.call('POST', '/api/v1/partners', '', json);
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe('validation_failed');
  });

  it('a DELETE with a stale If-Match is refused with 409 and deletes nothing', async () => {
    const partner = await create(server, '/api/v1/partners', { name: 'Stale' });
    expect((await server.call('PATCH', `/api/v1/partners/${partner.id}`, { name: 'Changed meanwhile' })).status).toBe(200);
    const stale = await server.call('DELETE', `/api/v1/partners/${partner.id}`, undefined, { headers: { 'if-match': '1' } });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('conflict');
    expect((await server.call('GET', `/api/v1/partners/${partner.id}`)).status).toBe(200);
    expect((await server.call('DELETE', `/api/v1/partners/${partner.id}`, undefined, { headers: { 'if-match': '2' } })).status).toBe(204);
  });

  it('offers store every field of the domain model and never show the postback secret', async () => {
    const advertiser = await create(server, '/api/v1/advertisers', { name: 'Full Offer Inc' });
    const full = {
      advertiser_id: advertiser.id,
      name: 'Everything set',
      status: 'paused',
      destination_url: 'https://adv.example/go?tid={transaction_id}&s={sub1}',
      visibility: 'require_approval',
      ruleset: {
        rules: [
          { dimension: 'country', op: 'include', values: ['US', 'CA'] },
          { dimension: 'os_version', op: 'include', min: '14.0' },
          { dimension: 'ip', op: 'exclude', values: ['10.0.0.0/8', '2001:db8::/32'] },
        ],
        day_parting: { timezone: 'America/New_York', windows: [{ days: [1, 2, 3, 4, 5], start: '09:00', end: '17:30' }] },
      },
      caps: [{ metric: 'clicks', period: 'daily', limit: 1000, mode: 'hard' }, { metric: 'payout', period: 'monthly', limit: 2500.5, mode: 'soft' }],
      caps_timezone: 'Europe/Berlin',
      duplicate_filter: { enabled: true, identifier: 'ip_user_agent', window_hours: 12, action: 'fail_traffic' },
      block_already_converted: true,
      redirect_mode: 'double_meta_refresh',
      deep_link: { enabled: true, allowed_hosts: ['shop.example', '*.adv.example'] },
      conversion_method: 'cookie',
      allow_duplicate_conversions: true,
      payout: { type: 'fixed', value: 1.2345 },
      revenue: { type: 'percent', value: 12.5 },
      attribution_window_days: 30,
      postback_secret: 's3cret-token-value',
      fail_traffic: { mode: 'weight', destinations: [{ type: 'url', url: 'https://fallback.example/', routing_value: 1 }] },
      expires_at: '2030-01-01T00:00:00.000Z',
    };
    const offer = await create(server, '/api/v1/offers', full);
    const { postback_secret: _secret, ...visible } = full;
    expect(offer).toMatchObject(visible);
    expect(offer).toMatchObject({ has_postback_secret: true });
    expect(JSON.stringify(offer)).not.toContain('s3cret-token-value');

    // An edit that does not mention the secret keeps it; null clears it.
    const renamed = await server.call('PATCH', `/api/v1/offers/${offer.id}`, { name: 'Renamed' });
    expect(renamed.body).toMatchObject({ has_postback_secret: true, name: 'Renamed', payout: full.payout });
    const cleared = await server.call('PATCH', `/api/v1/offers/${offer.id}`, { postback_secret: null });
    expect(cleared.body).toMatchObject({ has_postback_secret: false, name: 'Renamed', payout: full.payout });
  });

  it('an expiry sent with a time-zone offset is stored and answered in UTC (SPEC §2: all times are stored in UTC)', async () => {
    const advertiser = await create(server, '/api/v1/advertisers', { name: 'Offset Expiry' });
    const offer = await create(server, '/api/v1/offers', {
      advertiser_id: advertiser.id, name: 'Berlin midnight', destination_url: 'https://expiry.example/', expires_at: '2030-01-01T00:00:00+01:00',
    });
    expect(offer.expires_at).toBe('2029-12-31T23:00:00.000Z');
    const patched = await server.call('PATCH', `/api/v1/offers/${offer.id}`, { expires_at: '2031-06-30T20:30:00-04:00' });
    expect(patched.body.expires_at).toBe('2031-07-01T00:30:00.000Z');
    expect((await server.call('GET', `/api/v1/offers/${offer.id}`)).body.expires_at).toBe('2031-07-01T00:30:00.000Z');
  });

  it('offer URLs live under their offer', async () => {
    const { offer, offerUrl } = await basicNetwork(server);
    expect(offerUrl).toMatchObject({ offer_id: offer.id, status: 'active', partner_ids: null });
    const list = await server.call('GET', `/api/v1/offers/${offer.id}/urls`);
    expect(list.body.data).toEqual([offerUrl]);
    const patched = await server.call('PATCH', `/api/v1/offers/${offer.id}/urls/${offerUrl.id}`, { status: 'paused' });
    expect(patched.body).toMatchObject({ status: 'paused', version: 2 });
    const other = await basicNetwork(server);
    expect((await server.call('GET', `/api/v1/offers/${other.offer.id}/urls/${offerUrl.id}`)).status).toBe(404);
  });

  it('partners, their API keys and offer access states', async () => {
    const { offer, partner } = await basicNetwork(server);
    const patched = await server.call('PATCH', `/api/v1/partners/${partner.id}`, { postback_url: 'https://partner.example/pb?tid={transaction_id}' });
    expect(patched.body.postback_url).toBe('https://partner.example/pb?tid={transaction_id}');

    const access = await server.call('PUT', `/api/v1/offers/${offer.id}/access/${partner.id}`, {
      state: 'approved',
      caps: [{ metric: 'conversions', period: 'daily', limit: 10 }],
    });
    expect(access.status).toBe(200);
    expect(access.body).toMatchObject({ offer_id: offer.id, partner_id: partner.id, state: 'approved', caps: [{ metric: 'conversions', period: 'daily', limit: 10, mode: 'hard' }] });
    const blocked = await server.call('PUT', `/api/v1/offers/${offer.id}/access/${partner.id}`, { state: 'blocked' });
    expect(blocked.body).toMatchObject({ state: 'blocked', version: 2, caps: access.body.caps });
    expect((await server.call('GET', `/api/v1/offers/${offer.id}/access/${partner.id}`)).body).toEqual(blocked.body);
    // An If-Match naming the version read before the block is a lost update: 409, the block stays.
    const stale = await server.call('PUT', `/api/v1/offers/${offer.id}/access/${partner.id}`, { state: 'approved' }, { headers: { 'if-match': '1' } });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('conflict');
    const current = await server.call('PUT', `/api/v1/offers/${offer.id}/access/${partner.id}`, { state: 'approved' }, { headers: { 'if-match': '2' } });
    expect(current.body).toMatchObject({ state: 'approved', version: 3 });

    const key = await server.call('POST', `/api/v1/partners/${partner.id}/api-keys`);
    expect(key.status).toBe(201);
    expect(key.body.key).toMatch(/^sy_\d+_[A-Za-z0-9_-]{43}$/);
    const own = await server.call('GET', `/api/v1/partners/${partner.id}`, undefined, { key: key.body.key });
    expect(own.status).toBe(200);

    // Suspended, the partner's keys stop working (403); active again, they work again.
    expect((await server.call('PATCH', `/api/v1/partners/${partner.id}`, { status: 'suspended' })).status).toBe(200);
    const suspended = await server.call('GET', `/api/v1/partners/${partner.id}`, undefined, { key: key.body.key });
    expect(suspended.status).toBe(403);
    expect(suspended.body.error.code).toBe('forbidden');
    expect((await server.call('PATCH', `/api/v1/partners/${partner.id}`, { status: 'active' })).status).toBe(200);
    expect((await server.call('GET', `/api/v1/partners/${partner.id}`, undefined, { key: key.body.key })).status).toBe(200);

    // A revoked key is refused; only the partner's own keys can be revoked under it.
    const other = await basicNetwork(server);
    expect((await server.call('DELETE', `/api/v1/partners/${other.partner.id}/api-keys/${key.body.id}`)).status).toBe(404);
    expect((await server.call('DELETE', `/api/v1/partners/${partner.id}/api-keys/${key.body.id}`)).status).toBe(204);
    expect((await server.call('GET', `/api/v1/partners/${partner.id}`, undefined, { key: key.body.key })).status).toBe(401);
    expect((await server.call('DELETE', `/api/v1/partners/${partner.id}/api-keys/${key.body.id}`)).status).toBe(404);
  });

  it('tracking domains keep a single default, and new smart links use it', async () => {
    const first = await create(server, '/api/v1/tracking-domains', { host: 'go.first.example', is_default: true });
    const second = await create(server, '/api/v1/tracking-domains', { host: 'go.second.example:8443', is_default: true });
    expect((await server.call('GET', `/api/v1/tracking-domains/${first.id}`)).body.is_default).toBe(false);
    expect(second).toMatchObject({ is_default: true, scheme: 'https' });
    const { smartLink } = await basicNetwork(server);
    expect(smartLink.tracking_domain_id).toBe(second.id);
    expect((await server.call('DELETE', `/api/v1/tracking-domains/${second.id}`)).status).toBe(409);
    expect((await server.call('POST', '/api/v1/tracking-domains', { host: 'go.first.example' })).status).toBe(409);
  });

  it('smart links keep entry ids across updates and are soft-deleted', async () => {
    const { smartLink, offer } = await basicNetwork(server);
    expect(smartLink).toMatchObject({ status: 'active', routing: 'weight', catch_all_offer_id: null, visible_to_partners: false, kpi: null, warnings: [] });
    const [first, second] = smartLink.entries;
    const updated = await server.call('PATCH', `/api/v1/smart-links/${smartLink.id}`, {
      entries: [{ ...second, routing_value: 10 }],
      catch_all_offer_id: offer.id,
    }, { headers: { 'if-match': '"1"' } });
    expect(updated.status).toBe(200);
    expect(updated.body.entries).toEqual([{ ...second, routing_value: 10 }]);
    expect(updated.body.entries[0].id).not.toBe(first.id);

    const kpi = await server.call('PATCH', `/api/v1/smart-links/${smartLink.id}`, { routing: 'kpi', kpi: { metric: 'cvr' } });
    expect(kpi.body.kpi).toEqual({ metric: 'cvr', run_frequency_hours: 24, lookback_hours: 24, collection_threshold: 1000, algorithm: 'thompson' });

    expect((await server.call('DELETE', `/api/v1/smart-links/${smartLink.id}`)).status).toBe(204);
    const gone = await server.call('GET', `/api/v1/smart-links/${smartLink.id}`);
    expect(gone.body.status).toBe('deleted');
    const listed = await server.call('GET', '/api/v1/smart-links?page_size=500');
    expect(listed.body.data.map((l: { id: number }) => l.id)).not.toContain(smartLink.id);
    const deletedOnly = await server.call('GET', '/api/v1/smart-links?status=deleted&page_size=500');
    expect(deletedOnly.body.data.map((l: { id: number }) => l.id)).toContain(smartLink.id);
  });

  it('a smart link warns about entries that get no traffic because their offer expired or their offer URL is paused, and about an expired catch-all', async () => {
    const n = await basicNetwork(server);
    const past = '2020-01-01T00:00:00.000Z';
    const expired = await create(server, '/api/v1/offers', { advertiser_id: n.advertiser.id, name: 'Expired', destination_url: 'https://old.example/', expires_at: past });
    const url = await create(server, `/api/v1/offers/${n.offer.id}/urls`, { name: 'Landing B', destination_url: 'https://b.example/' });
    const link = await create(server, '/api/v1/smart-links', {
      name: 'Quiet entries',
      entries: [{ offer_id: n.offer.id }, { offer_id: n.offer.id, offer_url_id: url.id }, { offer_id: expired.id }],
      catch_all_offer_id: expired.id,
    });
    const [, byUrl, byExpired] = (link as unknown as { entries: { id: number }[] }).entries;
    expect((link as unknown as { warnings: string[] }).warnings).toEqual([
      `entry ${byExpired?.id}: offer ${expired.id} expired at ${past} and receives no traffic`,
      expect.stringContaining(`catch-all offer ${expired.id} expired at ${past}`),
    ]);
    expect((await server.call('PATCH', `/api/v1/offers/${n.offer.id}/urls/${url.id}`, { status: 'paused' })).status).toBe(200);
    expect((await server.call('GET', `/api/v1/smart-links/${link.id}`)).body.warnings).toContain(`entry ${byUrl?.id}: offer URL ${url.id} is paused and receives no traffic`);
  });

  it('a smart link warns when its catch-all offer is not active, and stops once it is', async () => {
    const n = await basicNetwork(server);
    const catchAll = await create(server, '/api/v1/offers', { advertiser_id: n.advertiser.id, name: 'Catch-all', destination_url: 'https://ca.example/' });
    const link = await create(server, '/api/v1/smart-links', { name: 'With catch-all', entries: [{ offer_id: n.offer.id }], catch_all_offer_id: catchAll.id });
    expect((link as unknown as { warnings: string[] }).warnings).toEqual([]);
    expect((await server.call('PATCH', `/api/v1/offers/${catchAll.id}`, { status: 'paused' })).status).toBe(200);
    expect((await server.call('GET', `/api/v1/smart-links/${link.id}`)).body.warnings).toEqual([expect.stringContaining(`catch-all offer ${catchAll.id} is paused`)]);
    expect((await server.call('PATCH', `/api/v1/offers/${catchAll.id}`, { status: 'active' })).status).toBe(200);
    expect((await server.call('GET', `/api/v1/smart-links/${link.id}`)).body.warnings).toEqual([]);
  });

  it('an offer warns when its fail traffic by weight gives every destination weight 0, and stops once one has a weight', async () => {
    const n = await basicNetwork(server);
    const backup = { type: 'url', url: 'https://backup.example/' };
    const offer = { advertiser_id: n.advertiser.id, name: 'With fail traffic', destination_url: 'https://o.example/' };
    const byPriority = await create(server, '/api/v1/offers', { ...offer, fail_traffic: { mode: 'priority', destinations: [backup] } });
    expect((byPriority as unknown as { warnings: string[] }).warnings).toEqual([]);
    const byWeight = await create(server, '/api/v1/offers', { ...offer, fail_traffic: { mode: 'weight', destinations: [backup] } });
    expect((byWeight as unknown as { warnings: string[] }).warnings).toEqual([expect.stringContaining('fail_traffic: every destination has weight 0')]);
    const fixed = await server.call('PATCH', `/api/v1/offers/${byWeight.id}`, { fail_traffic: { mode: 'weight', destinations: [{ ...backup, routing_value: 1 }] } });
    expect(fixed.body.warnings).toEqual([]);
  });

  it('an offer used by a smart link cannot be deleted until it is removed from the link', async () => {
    const { smartLink, offer, offerUrl } = await basicNetwork(server);
    expect((await server.call('DELETE', `/api/v1/offers/${offer.id}`)).body.error.code).toBe('conflict');
    expect((await server.call('DELETE', `/api/v1/offers/${offer.id}/urls/${offerUrl.id}`)).status).toBe(409);
    const other = await basicNetwork(server);
    await server.call('PATCH', `/api/v1/smart-links/${smartLink.id}`, { entries: [{ offer_id: other.offer.id }] });
    expect((await server.call('DELETE', `/api/v1/offers/${offer.id}`)).status).toBe(204);
    expect((await server.call('GET', `/api/v1/offers/${offer.id}`)).body.status).toBe('deleted');
    const listed = await server.call('GET', '/api/v1/offers?page_size=500');
    expect(listed.body.data.map((o: { id: number }) => o.id)).not.toContain(offer.id);
  });

  it('a partner an offer URL is restricted to cannot be deleted until the URL no longer names it', async () => {
    const { offer } = await basicNetwork(server);
    const partner = await create(server, '/api/v1/partners', { name: 'Restricted to' });
    const url = await create(server, `/api/v1/offers/${offer.id}/urls`, { name: 'Only them', destination_url: 'https://a.example/u', partner_ids: [partner.id] });
    const refused = await server.call('DELETE', `/api/v1/partners/${partner.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain(String(url.id));
    // The URL stays editable (it failed validation on every later PATCH once its partner was gone).
    expect((await server.call('PATCH', `/api/v1/offers/${offer.id}/urls/${url.id}`, { name: 'renamed' })).status).toBe(200);
    expect((await server.call('PATCH', `/api/v1/offers/${offer.id}/urls/${url.id}`, { partner_ids: null })).status).toBe(200);
    expect((await server.call('DELETE', `/api/v1/partners/${partner.id}`)).status).toBe(204);
  });

  it("rulesets take SPEC §6's canonical values in any case", async () => {
    const { offer } = await basicNetwork(server);
    const rules = [
      { dimension: 'os', op: 'include', values: ['MACOS', 'ios', 'ChromeOS'] },
      { dimension: 'device_type', op: 'exclude', values: ['Tablet', 'bot'] },
      { dimension: 'is_bot', op: 'include', values: ['False'] },
      { dimension: 'os_version', op: 'include', min: '14', max: '14.0.1' },
      // max takes every later part of it: 14.2 up to 14.x is a range.
      { dimension: 'os_version', op: 'include', min: '14.2', max: '14' },
    ];
    const res = await server.call('PATCH', `/api/v1/offers/${offer.id}`, { ruleset: { rules } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });

  it('a browser variant visitors are recorded under another name (Mobile Safari) is refused with the name to use', async () => {
    const n = await basicNetwork(server);
    const iphoneSafari = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
    const withBrowsers = (values: string[]) => ({ ruleset: { rules: [{ dimension: 'browser', op: 'include', values }] } });
    const refused = await server.call('PATCH', `/api/v1/offers/${n.offer.id}`, withBrowsers(['Chrome', 'Mobile Safari']));
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toEqual([{ path: 'ruleset.rules[0].values[1]', message: expect.stringContaining('recorded as Safari') }]);
    // Named families and browsers outside them (kept under the parser's name) are accepted, and match.
    expect((await server.call('PATCH', `/api/v1/offers/${n.offer.id}`, withBrowsers(['Safari', 'UCBrowser']))).status).toBe(200);
    const explain = await server.call('POST', `/api/v1/smart-links/${n.smartLink.id}/explain`, { partner_id: n.partner.id, user_agent: iphoneSafari });
    expect(explain.body.context.browser).toBe('Safari');
    expect(explain.body.decision.outcome).toBe('routed');
  });

  it('a value with white space around it, which no visitor can have (brand "Apple "), is refused rather than turning every visitor away', async () => {
    const n = await basicNetwork(server);
    const iphone = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
    const rule = (dimension: string, value: string) => ({ ruleset: { rules: [{ dimension, op: 'include', values: [value] }] } });
    for (const [dimension, value] of [['brand', 'Apple '], ['browser', ' Safari'], ['city', 'New York '], ['region', '\tCalifornia']] as const) {
      const refused = await server.call('PATCH', `/api/v1/offers/${n.offer.id}`, rule(dimension, value));
      expect(refused.status, `${dimension} ${JSON.stringify(value)}`).toBe(400);
      expect(refused.body.error.details).toEqual([{ path: 'ruleset.rules[0].values[0]', message: expect.stringContaining('space') }]);
    }
    expect((await server.call('PATCH', `/api/v1/offers/${n.offer.id}`, rule('brand', 'Apple'))).status).toBe(200);
    const explain = await server.call('POST', `/api/v1/smart-links/${n.smartLink.id}/explain`, { partner_id: n.partner.id, user_agent: iphone });
    expect(explain.body.context.brand).toBe('Apple');
    expect(explain.body.decision.outcome).toBe('routed');
  });

  it('a ruleset saved before a check existed does not block later edits, but a changed one is checked', async () => {
    const { offer, smartLink } = await basicNetwork(server);
    const rules = [{ dimension: 'os', op: 'include', values: ['iOS'] }];
    expect((await server.call('PATCH', `/api/v1/offers/${offer.id}`, { ruleset: { rules } })).status).toBe(200);
    const link = await server.call('PATCH', `/api/v1/smart-links/${smartLink.id}`, { entries: [{ offer_id: offer.id, ruleset: { rules } }] });
    expect(link.status).toBe(200);
    // As an older version stored them, before values outside SPEC §6's canonical sets were refused.
    const db = new Database(path.join(server.dataDir, DATABASE_FILE));
    db.prepare(`update offers set data = json_set(data, '$.ruleset.rules[0].values', json('["iOS","iPadOS"]')) where id = ?`).run(offer.id);
    db.prepare(`update smart_links set data = json_set(data, '$.entries[0].ruleset.rules[0].values', json('["iPadOS"]')) where id = ?`).run(smartLink.id);
    db.close();

    expect((await server.call('PATCH', `/api/v1/offers/${offer.id}`, { name: 'renamed' })).status).toBe(200);
    expect((await server.call('PATCH', `/api/v1/smart-links/${smartLink.id}`, { name: 'renamed' })).status).toBe(200);
    const changed = await server.call('PATCH', `/api/v1/offers/${offer.id}`, { ruleset: { rules: [{ dimension: 'os', op: 'include', values: ['iPadOS', 'Android'] }] } });
    expect(changed.status).toBe(400);
    expect(changed.body.error.details[0].path).toBe('ruleset.rules[0].values[0]');
  });

  it('lists without a status filter show every status but deleted; a status filter narrows them', async () => {
    const n = await basicNetwork(server);
    const paused = await create(server, '/api/v1/offers', { advertiser_id: n.advertiser.id, name: 'Paused', status: 'paused', destination_url: 'https://p.example/' });
    const suspended = await create(server, '/api/v1/partners', { name: 'Suspended', status: 'suspended' });
    const inactive = await create(server, '/api/v1/advertisers', { name: 'Inactive', status: 'inactive' });
    const pausedLink = await create(server, '/api/v1/smart-links', { name: 'Paused link', status: 'paused', entries: [{ offer_id: n.offer.id }] });
    const pausedUrl = await create(server, `/api/v1/offers/${n.offer.id}/urls`, { name: 'Paused URL', status: 'paused', destination_url: 'https://p.example/u' });
    const idsOf = async (route: string): Promise<number[]> => (await server.call('GET', `${route}${route.includes('?') ? '&' : '?'}page_size=500`)).body.data.map((r: { id: number }) => r.id);
    expect(await idsOf('/api/v1/offers')).toEqual(expect.arrayContaining([paused.id, n.offer.id]));
    expect(await idsOf('/api/v1/partners')).toEqual(expect.arrayContaining([suspended.id, n.partner.id]));
    expect(await idsOf('/api/v1/advertisers')).toEqual(expect.arrayContaining([inactive.id, n.advertiser.id]));
    expect(await idsOf('/api/v1/smart-links')).toEqual(expect.arrayContaining([pausedLink.id, n.smartLink.id]));
    expect(await idsOf(`/api/v1/offers/${n.offer.id}/urls`)).toContain(pausedUrl.id);
    const activeOnly = await idsOf('/api/v1/offers?status=active');
    expect(activeOnly).toContain(n.offer.id);
    expect(activeOnly).not.toContain(paused.id);
  });

  it('network settings hold the global fail redirect', async () => {
    const before = await server.call('GET', '/api/v1/settings');
    expect(before.body.global_fail_redirect_url).toBeNull();
    const after = await server.call('PUT', '/api/v1/settings', { global_fail_redirect_url: 'https://fallback.example/' });
    expect(after.body).toMatchObject({ global_fail_redirect_url: 'https://fallback.example/', version: before.body.version + 1 });
  });

  it('the OpenAPI document describes the same schemas that validate requests', async () => {
    const res = await fetch(`${server.url}/openapi.json`);
    const doc = (await res.json()) as any;
    expect(doc.openapi).toMatch(/^3\./);
    const createOffer = doc.paths['/api/v1/offers'].post.requestBody.content['application/json'].schema;
    expect(createOffer.required).toEqual(['advertiser_id', 'name', 'destination_url']);
    expect(createOffer.additionalProperties).toBe(false);
    expect(createOffer.properties.redirect_mode.enum).toEqual(['standard', 'single_meta_refresh', 'double_meta_refresh']);
    // The server pages with defaults, so a client generated from the document need not send them.
    const listParams = doc.paths['/api/v1/offers'].get.parameters as { name: string; required?: boolean }[];
    expect(listParams.filter((p) => p.name === 'page' || p.name === 'page_size' || p.name === 'status').map((p) => [p.name, p.required ?? false]))
      .toEqual([['page', false], ['page_size', false], ['status', false]]);
    expect(listParams.find((p) => p.name === 'status')).not.toHaveProperty('schema.default');
    // A field left out of a PATCH or PUT keeps its stored value: the document must not suggest a
    // default, which a generated client would send (un-pausing offers, clearing postback secrets).
    const defaulted: string[] = [];
    for (const [route, operations] of Object.entries(doc.paths as Record<string, any>)) {
      for (const method of ['patch', 'put']) {
        const properties = operations[method]?.requestBody?.content?.['application/json']?.schema?.properties ?? {};
        for (const [name, schema] of Object.entries(properties as Record<string, any>)) if ('default' in schema) defaulted.push(`${method} ${route} ${name}`);
      }
    }
    expect(defaulted).toEqual([]);
    for (const path of ['/api/v1/smart-links/{id}', '/api/v1/offers/{id}/urls/{url_id}', '/api/v1/offers/{id}/access/{partner_id}', '/api/v1/partners/{id}/api-keys', '/api/v1/settings']) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
  });
});
