import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/api-server.js';
import { basicNetwork, create } from '../support/fixtures.js';
import { PATTERN_HINTS } from '../../src/domain/formats.js';

let server: TestServer;
let n: Awaited<ReturnType<typeof basicNetwork>>;
let foreignUrlId: number;
let otherOfferId: number;
let deletedOfferId: number;
let deletedLinkId: number;
let orphanUrlId: number;

beforeAll(async () => {
  server = await startServer();
  n = await basicNetwork(server);
  const other = await create(server, '/api/v1/offers', { advertiser_id: n.advertiser.id, name: 'Other', destination_url: 'https://other.example/' });
  otherOfferId = other.id;
  deletedOfferId = (await create(server, '/api/v1/offers', { advertiser_id: n.advertiser.id, name: 'Deleted', destination_url: 'https://deleted.example/' })).id;
  orphanUrlId = (await create(server, `/api/v1/offers/${deletedOfferId}/urls`, { name: 'Orphan', destination_url: 'https://deleted.example/u' })).id;
  expect((await server.call('DELETE', `/api/v1/offers/${deletedOfferId}`)).status).toBe(204);
  deletedLinkId = (await create(server, '/api/v1/smart-links', { name: 'Deleted link', entries: [{ offer_id: other.id }] })).id;
  expect((await server.call('DELETE', `/api/v1/smart-links/${deletedLinkId}`)).status).toBe(204);
  foreignUrlId = (await create(server, `/api/v1/offers/${other.id}/urls`, { name: 'Other URL', destination_url: 'https://other.example/u' })).id;
});
afterAll(async () => server.close());

/** Everything a bad request could have touched, read back through the API. */
async function everything() {
  const paths = ['/api/v1/advertisers', '/api/v1/offers?status=active', '/api/v1/partners', '/api/v1/smart-links', '/api/v1/tracking-domains', `/api/v1/offers/${n.offer.id}/urls`, '/api/v1/settings'];
  return Promise.all(paths.map(async (path) => (await server.call('GET', path.includes('?') ? `${path}&page_size=500` : path.endsWith('settings') ? path : `${path}?page_size=500`)).body));
}

const offer = () => ({ advertiser_id: n.advertiser.id, name: 'Valid offer', destination_url: 'https://ok.example/' });
const link = (entries: unknown) => ({ name: 'Bad link', entries });

interface Case {
  name: string;
  method?: string;
  path: () => string;
  body?: () => unknown;
  headers?: Record<string, string>;
  status: number;
  code: string;
  /** A path the error details must name. */
  detail?: string;
}

const cases: Case[] = [
  { name: 'invalid JSON', path: () => '/api/v1/advertisers', body: () => '{"name": "x"', status: 400, code: 'validation_failed' },
  { name: 'a JSON array instead of an object', path: () => '/api/v1/advertisers', body: () => '[1,2]', status: 400, code: 'validation_failed' },
  { name: 'empty body', path: () => '/api/v1/advertisers', body: () => '', status: 400, code: 'validation_failed' },
  { name: 'form-encoded body', path: () => '/api/v1/advertisers', body: () => 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 400, code: 'validation_failed' },
  { name: 'name of the wrong type', path: () => '/api/v1/advertisers', body: () => ({ name: 42 }), status: 400, code: 'validation_failed', detail: 'name' },
  { name: 'missing required name', path: () => '/api/v1/partners', body: () => ({ status: 'active' }), status: 400, code: 'validation_failed', detail: 'name' },
  { name: 'empty name', path: () => '/api/v1/partners', body: () => ({ name: '' }), status: 400, code: 'validation_failed', detail: 'name' },
  { name: 'unknown field', path: () => '/api/v1/advertisers', body: () => ({ name: 'x', colour: 'red' }), status: 400, code: 'validation_failed', detail: 'colour' },
  { name: 'unknown enum value', path: () => '/api/v1/offers', body: () => ({ ...offer(), redirect_mode: 'teleport' }), status: 400, code: 'validation_failed', detail: 'redirect_mode' },
  { name: '__proto__ key', path: () => '/api/v1/advertisers', body: () => '{"name":"x","__proto__":{"admin":true}}', status: 400, code: 'validation_failed' },
  { name: 'constructor.prototype key', path: () => '/api/v1/advertisers', body: () => '{"name":"x","constructor":{"prototype":{"admin":true}}}', status: 400, code: 'validation_failed' },
  { name: 'javascript: destination', path: () => '/api/v1/offers', body: () => ({ ...offer(), destination_url: 'javascript:alert(1)' }), status: 400, code: 'validation_failed', detail: 'destination_url' },
  { name: 'data: destination', path: () => '/api/v1/offers', body: () => ({ ...offer(), destination_url: 'data:text/html,<script>alert(1)</script>' }), status: 400, code: 'validation_failed', detail: 'destination_url' },
  { name: 'destination with a newline', path: () => '/api/v1/offers', body: () => ({ ...offer(), destination_url: 'https://ok.example/\r\nSet-Cookie: x=1' }), status: 400, code: 'validation_failed', detail: 'destination_url' },
  // The visitor writes sub1: in the host it would send visitors anywhere from the network's own domain.
  { name: 'a visitor-written macro as the destination host (open redirect)', path: () => '/api/v1/offers', body: () => ({ ...offer(), destination_url: 'https://{sub1}/' }), status: 400, code: 'validation_failed', detail: 'destination_url' },
  { name: 'a visitor-written macro as the host without slashes', path: () => '/api/v1/offers', body: () => ({ ...offer(), destination_url: 'https:{sub1}/land' }), status: 400, code: 'validation_failed', detail: 'destination_url' },
  { name: 'a visitor-written macro as the host after three slashes', path: () => '/api/v1/offers', body: () => ({ ...offer(), destination_url: 'https:///{sub1}/land' }), status: 400, code: 'validation_failed', detail: 'destination_url' },
  { name: 'a visitor-written macro as the host after backslashes', path: () => '/api/v1/offers', body: () => ({ ...offer(), destination_url: 'https:\\\\{sub1}/land' }), status: 400, code: 'validation_failed', detail: 'destination_url' },
  { name: 'a visitor-written macro inside the destination host', path: () => '/api/v1/offers', body: () => ({ ...offer(), destination_url: 'https://shop{source_id}/land' }), status: 400, code: 'validation_failed', detail: 'destination_url' },
  // Browsers and the postback client read `\\` as `//` after http(s):, and need no slashes at all.
  { name: 'relative destination', path: () => '/api/v1/offers', body: () => ({ ...offer(), destination_url: '/local/path' }), status: 400, code: 'validation_failed', detail: 'destination_url' },
  { name: 'invalid IANA timezone', path: () => '/api/v1/offers', body: () => ({ ...offer(), caps_timezone: 'Mars/Olympus_Mons' }), status: 400, code: 'validation_failed', detail: 'caps_timezone' },
  { name: 'a click cap of two and a half clicks', path: () => '/api/v1/offers', body: () => ({ ...offer(), caps: [{ metric: 'clicks', period: 'daily', limit: 2.5 }] }), status: 400, code: 'validation_failed', detail: 'caps[0].limit' },
  { name: 'money with five decimals', path: () => '/api/v1/offers', body: () => ({ ...offer(), payout: { type: 'fixed', value: 1.23456 } }), status: 400, code: 'validation_failed', detail: 'payout.value' },
  { name: 'negative payout', path: () => '/api/v1/offers', body: () => ({ ...offer(), payout: { type: 'fixed', value: -1 } }), status: 400, code: 'validation_failed', detail: 'payout.value' },
  { name: 'unknown advertiser', path: () => '/api/v1/offers', body: () => ({ ...offer(), advertiser_id: 999999 }), status: 400, code: 'validation_failed', detail: 'advertiser_id' },
  { name: 'an IPv4-mapped network shorter than the mapping', path: () => '/api/v1/offers', body: () => ({ ...offer(), ruleset: { rules: [{ dimension: 'ip', op: 'exclude', values: ['::ffff:1.2.3.4/64'] }] } }), status: 400, code: 'validation_failed', detail: 'ruleset.rules[0].values[0]' },
  // Two letters are not enough: no visitor is ever placed in UK (GB) or speaks zz.
  { name: 'a country code that does not exist (UK)', path: () => '/api/v1/offers', body: () => ({ ...offer(), ruleset: { rules: [{ dimension: 'country', op: 'include', values: ['GB', 'UK'] }] } }), status: 400, code: 'validation_failed', detail: 'ruleset.rules[0].values[1]' },
  { name: 'a language code that does not exist (zz)', path: () => '/api/v1/offers', body: () => ({ ...offer(), ruleset: { rules: [{ dimension: 'language', op: 'include', values: ['en', 'zz'] }] } }), status: 400, code: 'validation_failed', detail: 'ruleset.rules[0].values[1]' },
  { name: 'malformed CIDR in a ruleset', path: () => '/api/v1/offers', body: () => ({ ...offer(), ruleset: { rules: [{ dimension: 'ip', op: 'include', values: ['10.0.0.0/33'] }] } }), status: 400, code: 'validation_failed', detail: 'ruleset.rules[0].values[0]' },
  // Visitors are parsed to SPEC §6's canonical values: any other value could never match.
  { name: 'an os that visitors are never parsed to', path: () => '/api/v1/offers', body: () => ({ ...offer(), ruleset: { rules: [{ dimension: 'os', op: 'include', values: ['iOS', 'iPadOS'] }] } }), status: 400, code: 'validation_failed', detail: 'ruleset.rules[0].values[1]' },
  { name: 'a device type that visitors are never parsed to', path: () => '/api/v1/smart-links', body: () => link([{ offer_id: n.offer.id, ruleset: { rules: [{ dimension: 'device_type', op: 'exclude', values: ['phone'] }] } }]), status: 400, code: 'validation_failed', detail: 'entries[0].ruleset.rules[0].values[0]' },
  { name: 'os_version min above max', path: () => '/api/v1/offers', body: () => ({ ...offer(), ruleset: { rules: [{ dimension: 'os_version', op: 'include', min: '17', max: '14.2' }] } }), status: 400, code: 'validation_failed', detail: 'ruleset.rules[0]' },
  { name: 'a day-parting window that starts where it ends', path: () => '/api/v1/offers', body: () => ({ ...offer(), ruleset: { day_parting: { windows: [{ days: [1], start: '09:00', end: '09:00' }] } } }), status: 400, code: 'validation_failed', detail: 'ruleset.day_parting.windows[0]' },
  { name: 'a day-parting window that starts at 24:00', path: () => '/api/v1/offers', body: () => ({ ...offer(), ruleset: { day_parting: { windows: [{ days: [1], start: '24:00', end: '06:00' }] } } }), status: 400, code: 'validation_failed', detail: 'ruleset.day_parting.windows[0].start' },
  { name: 'os_version rule without bounds', path: () => '/api/v1/offers', body: () => ({ ...offer(), ruleset: { rules: [{ dimension: 'os_version', op: 'include' }] } }), status: 400, code: 'validation_failed', detail: 'ruleset.rules[0]' },
  { name: 'unknown targeting dimension', path: () => '/api/v1/offers', body: () => ({ ...offer(), ruleset: { rules: [{ dimension: 'horoscope', op: 'include', values: ['leo'] }] } }), status: 400, code: 'validation_failed', detail: 'ruleset.rules[0].dimension' },
  { name: 'fail traffic offer that does not exist', path: () => '/api/v1/offers', body: () => ({ ...offer(), fail_traffic: { mode: 'priority', destinations: [{ type: 'offer', id: 424242 }] } }), status: 400, code: 'validation_failed', detail: 'fail_traffic.destinations[0].id' },
  { name: 'smart link without entries', path: () => '/api/v1/smart-links', body: () => link([]), status: 400, code: 'validation_failed', detail: 'entries' },
  { name: 'negative weight', path: () => '/api/v1/smart-links', body: () => link([{ offer_id: n.offer.id, routing_value: -5 }]), status: 400, code: 'validation_failed', detail: 'entries[0].routing_value' },
  { name: 'fractional weight', path: () => '/api/v1/smart-links', body: () => link([{ offer_id: n.offer.id, routing_value: 1.5 }]), status: 400, code: 'validation_failed', detail: 'entries[0].routing_value' },
  { name: 'unknown offer in an entry', path: () => '/api/v1/smart-links', body: () => link([{ offer_id: 999999 }]), status: 400, code: 'validation_failed', detail: 'entries[0].offer_id' },
  { name: 'unknown offer URL in an entry', path: () => '/api/v1/smart-links', body: () => link([{ offer_id: n.offer.id, offer_url_id: 999999 }]), status: 400, code: 'validation_failed', detail: 'entries[0].offer_url_id' },
  { name: "another offer's URL in an entry", path: () => '/api/v1/smart-links', body: () => link([{ offer_id: n.offer.id, offer_url_id: foreignUrlId }]), status: 400, code: 'validation_failed', detail: 'entries[0].offer_url_id' },
  { name: 'the same entry pair twice', path: () => '/api/v1/smart-links', body: () => link([{ offer_id: n.offer.id }, { offer_id: n.offer.id, routing_value: 3 }]), status: 400, code: 'validation_failed', detail: 'entries[1]' },
  { name: '10,000 entries', path: () => '/api/v1/smart-links', body: () => link(Array.from({ length: 10_000 }, () => ({ offer_id: n.offer.id }))), status: 400, code: 'validation_failed', detail: 'entries' },
  { name: 'KPI routing without KPI settings', path: () => '/api/v1/smart-links', body: () => ({ ...link([{ offer_id: n.offer.id }]), routing: 'kpi' }), status: 400, code: 'validation_failed', detail: 'kpi' },
  { name: 'a smart link created deleted', path: () => '/api/v1/smart-links', body: () => ({ ...link([{ offer_id: n.offer.id }]), status: 'deleted' }), status: 400, code: 'validation_failed', detail: 'status' },
  { name: 'an offer created deleted', path: () => '/api/v1/offers', body: () => ({ ...offer(), status: 'deleted' }), status: 400, code: 'validation_failed', detail: 'status' },
  { name: 'unknown catch-all offer', path: () => '/api/v1/smart-links', body: () => ({ ...link([{ offer_id: n.offer.id }]), catch_all_offer_id: 999999 }), status: 400, code: 'validation_failed', detail: 'catch_all_offer_id' },
  { name: 'unknown tracking domain', path: () => '/api/v1/smart-links', body: () => ({ ...link([{ offer_id: n.offer.id }]), tracking_domain_id: 999999 }), status: 400, code: 'validation_failed', detail: 'tracking_domain_id' },
  { name: 'entry id of another smart link', method: 'PATCH', path: () => `/api/v1/smart-links/${n.smartLink.id}`, body: () => ({ entries: [{ id: 999999, offer_id: n.offer.id }] }), status: 400, code: 'validation_failed', detail: 'entries[0].id' },
  { name: 'a 10 MB body', path: () => '/api/v1/advertisers', body: () => JSON.stringify({ name: 'x'.repeat(10 * 1024 * 1024) }), status: 413, code: 'payload_too_large' },
  { name: 'fail traffic to a deleted offer', path: () => '/api/v1/offers', body: () => ({ ...offer(), fail_traffic: { mode: 'priority', destinations: [{ type: 'offer', id: deletedOfferId }] } }), status: 400, code: 'validation_failed', detail: 'fail_traffic.destinations[0].id' },
  { name: 'fail traffic to a deleted smart link', path: () => '/api/v1/offers', body: () => ({ ...offer(), fail_traffic: { mode: 'priority', destinations: [{ type: 'smart_link', id: deletedLinkId }] } }), status: 400, code: 'validation_failed', detail: 'fail_traffic.destinations[0].id' },
  { name: 'fail traffic to a URL of a deleted offer', path: () => '/api/v1/offers', body: () => ({ ...offer(), fail_traffic: { mode: 'priority', destinations: [{ type: 'offer_url', id: orphanUrlId }] } }), status: 400, code: 'validation_failed', detail: 'fail_traffic.destinations[0].id' },
  { name: 'one entry id given to two entries', method: 'PATCH', path: () => `/api/v1/smart-links/${n.smartLink.id}`, body: () => ({ entries: [{ id: n.smartLink.entries[0].id, offer_id: n.offer.id }, { id: n.smartLink.entries[0].id, offer_id: otherOfferId }] }), status: 400, code: 'validation_failed', detail: 'entries[1].id' },
  { name: 'stale If-Match', method: 'PATCH', path: () => `/api/v1/smart-links/${n.smartLink.id}`, body: () => ({ name: 'Lost update' }), headers: { 'if-match': '0' }, status: 409, code: 'conflict' },
  { name: 'unparseable If-Match', method: 'PATCH', path: () => `/api/v1/smart-links/${n.smartLink.id}`, body: () => ({ name: 'x' }), headers: { 'if-match': 'yesterday' }, status: 400, code: 'validation_failed' },
  { name: 'empty PATCH', method: 'PATCH', path: () => `/api/v1/advertisers/${n.advertiser.id}`, body: () => ({}), status: 400, code: 'validation_failed' },
  { name: 'PATCH of an unknown id', method: 'PATCH', path: () => '/api/v1/advertisers/999999', body: () => ({ name: 'x' }), status: 404, code: 'not_found' },
  { name: 'non-numeric id', method: 'GET', path: () => '/api/v1/offers/abc', status: 400, code: 'validation_failed' },
  { name: 'page_size over 500', method: 'GET', path: () => '/api/v1/offers?page_size=501', status: 400, code: 'validation_failed', detail: 'query.page_size' },
  { name: 'a date that does not exist (read as 1 March before)', method: 'GET', path: () => '/api/v1/conversions?from=2024-02-30T00:00:00Z', status: 400, code: 'validation_failed', detail: 'query.from' },
  { name: 'hour 24', method: 'GET', path: () => '/api/v1/conversions?to=2024-02-01T24:00:00Z', status: 400, code: 'validation_failed', detail: 'query.to' },
  { name: 'a page past any list (its offset overflowed SQLite)', method: 'GET', path: () => '/api/v1/offers?page=200000000000000000', status: 400, code: 'validation_failed', detail: 'query.page' },
  { name: 'a conversions page past any list', method: 'GET', path: () => '/api/v1/conversions?page=99999999999999999999', status: 400, code: 'validation_failed', detail: 'query.page' },
  { name: 'a partner conversion cap of 1.5 conversions', method: 'PUT', path: () => `/api/v1/offers/${n.offer.id}/access/${n.partner.id}`, body: () => ({ state: 'approved', caps: [{ metric: 'conversions', period: 'daily', limit: 1.5 }] }), status: 400, code: 'validation_failed', detail: 'caps[0].limit' },
  { name: 'access state out of the enum', method: 'PUT', path: () => `/api/v1/offers/${n.offer.id}/access/${n.partner.id}`, body: () => ({ state: 'maybe' }), status: 400, code: 'validation_failed', detail: 'state' },
  { name: 'deleting an advertiser that has offers', method: 'DELETE', path: () => `/api/v1/advertisers/${n.advertiser.id}`, status: 409, code: 'conflict' },
  { name: 'tracking domain with a path', path: () => '/api/v1/tracking-domains', body: () => ({ host: 'evil.example/path' }), status: 400, code: 'validation_failed', detail: 'host' },
];

describe('validation messages say what to send', () => {
  it('a KPI run frequency or lookback out of its set is told the allowed values, and not that kpi must be null', async () => {
    const res = await server.call('POST', '/api/v1/smart-links', { ...link([{ offer_id: n.offer.id }]), routing: 'kpi', kpi: { metric: 'cvr', run_frequency_hours: 2, lookback_hours: 36 } });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([
      { path: 'kpi.run_frequency_hours', message: 'must be one of: 1, 3, 6, 12, 24' },
      { path: 'kpi.lookback_hours', message: 'must be one of: 12, 24, 48' },
    ]);
  });

  it('a value of the wrong form is told the form, not the name of a format', async () => {
    const res = await server.call('POST', '/api/v1/tracking-domains', { host: 'Clicks.Example.com' });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: 'host', message: 'must be a lower-case host name, optionally with :port, e.g. clicks.example.com' }]);
  });

  it('a visitor-written macro in a host is refused with the reason; the same macro after the host, and macros the network writes in it, are fine', async () => {
    const res = await server.call('POST', '/api/v1/offers', { ...offer(), destination_url: 'https://{sub2}.example/?t={transaction_id}' });
    expect(res.body.error.details).toEqual([{ path: 'destination_url', message: expect.stringMatching(/no \{sub1\}–\{sub5\}, \{source_id\}, \{idfa\}, \{gaid\}, \{event_id\} or \{payout\} in its host/) }]);
    const fine = await server.call('POST', '/api/v1/offers', { ...offer(), destination_url: 'https://{country}.shop.example/{sub1}?s={sub2}#{gaid}' });
    expect(fine.status).toBe(201);
  });

  it('a country rule naming UK is told the code to use', async () => {
    const res = await server.call('POST', '/api/v1/offers', { ...offer(), ruleset: { rules: [{ dimension: 'country', op: 'include', values: ['uk'] }] } });
    expect(res.body.error.details).toEqual([{ path: 'ruleset.rules[0].values[0]', message: 'must be an ISO 3166-1 alpha-2 country code (the United Kingdom is GB)' }]);
    const fine = await server.call('POST', '/api/v1/offers', { ...offer(), ruleset: { rules: [{ dimension: 'country', op: 'include', values: ['gb', 'XK', 'BV'] }, { dimension: 'language', op: 'exclude', values: ['EN', 'fi'] }] } });
    expect(fine.status, JSON.stringify(fine.body)).toBe(201);
  });

  it('a value of the wrong pattern is told the form in words, not a regular expression', async () => {
    const currency = await server.call('POST', '/api/v1/advertisers', { name: 'Lower-case currency', default_currency: 'usd' });
    expect(currency.body.error.details).toEqual([{ path: 'default_currency', message: 'must be an ISO 4217 currency code in capitals, e.g. USD' }]);
    const clock = await server.call('POST', '/api/v1/offers', { ...offer(), ruleset: { day_parting: { timezone: 'UTC', windows: [{ days: [1], start: '9:00', end: '17:00' }] } } });
    expect(clock.body.error.details).toEqual([{ path: 'ruleset.day_parting.windows[0].start', message: 'must be a time HH:MM from 00:00 to 24:00, e.g. 09:00' }]);
    const hosts = await server.call('POST', '/api/v1/offers', { ...offer(), deep_link: { enabled: true, allowed_hosts: ['Shop.Example.com'] } });
    expect(hosts.body.error.details[0].message).toMatch(/^must be a lower-case host name/);
    const click = await server.call('GET', `/api/v1/clicks/${'A'.repeat(32)}`);
    expect(click.body.error.details[0].message).toBe('must be a transaction id: 32 lower-case hex characters (0-9, a-f)');
    const res = await fetch(`${server.url}/postback?transaction_id=${'a'.repeat(32)}&amount=10.12345`);
    const body = (await res.json()) as { error: { details: { path: string; message: string }[] } };
    expect(res.status).toBe(400);
    expect(body.error.details).toEqual([{ path: 'amount', message: 'must be a non-negative amount with at most 4 decimal places and no sign or exponent, e.g. 19.99' }]);
  });

  it('every pattern a request schema uses has words for its error message', async () => {
    const patterns = new Set<string>();
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node !== null && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (key === 'pattern' && typeof value === 'string') patterns.add(value);
          else walk(value);
        }
      }
    };
    walk((await server.call('GET', '/openapi.json')).body);
    expect(patterns.size).toBeGreaterThan(0);
    expect([...patterns].filter((pattern) => PATTERN_HINTS[pattern] === undefined)).toEqual([]);
  });

  it('a nullable field given the wrong type still says what it must be', async () => {
    const res = await server.call('POST', '/api/v1/smart-links', { ...link([{ offer_id: n.offer.id }]), routing: 'kpi', kpi: 'fast' });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { path: string; message: string }) => `${d.path}: ${d.message}`)).toContain('kpi: must be object');
  });
});

describe('bad input gets a clear 4xx and changes nothing', () => {
  it(`has at least 30 cases (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases)('$name → $status $code', async (c) => {
    const before = await everything();
    const res = await server.call(c.method ?? 'POST', c.path(), c.body?.(), { headers: c.headers ?? {} });
    expect(res.status, JSON.stringify(res.body).slice(0, 500)).toBe(c.status);
    expect(res.body.error.code).toBe(c.code);
    expect(typeof res.body.error.message).toBe('string');
    if (c.detail) expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(c.detail);
    expect(await everything()).toEqual(before);
  });
});
