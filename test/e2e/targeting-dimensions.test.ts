import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/api-server.js';
import { clickOn, transactionIdIn } from '../support/clicks.js';
import { testClock } from '../support/clock.js';
import { create } from '../support/fixtures.js';

/**
 * Every SPEC §6 dimension and operator through the real click path: the stored click's skipped
 * entry names the dimension's reason code, values match in any case, and a visitor about whom a
 * value is unknown (a private address has no geo, an empty user agent no device, no
 * Accept-Language no language, a sub not in the URL no sub) fails an include and passes an exclude.
 * The engine's own tests (test/engine/rules.test.ts) cover the semantics on hand-made contexts;
 * these check that the server builds the context the rules read. Clock: Wednesday 12:00 UTC.
 */

const clock = testClock('2025-06-11T12:00:00.000Z');
let server: TestServer;
let advertiserId: number;
let partnerId: number;
let fallbackId: number;

const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1';
const GOOGLEBOT = 'Googlebot/2.1 (+http://www.google.com/bot.html)';
const US = '8.8.8.8'; // US (several clocks: no time zone on the bundled database)
const GB = '81.2.69.142'; // GB, Europe/London
const DE_V6 = '2a00:1450:4001::1'; // DE, Europe/Berlin
const NOWHERE = '203.0.113.9'; // documentation address: no geo

beforeAll(async () => {
  server = await startServer({ now: clock.now, env: { TRUST_PROXY: '127.0.0.1' } });
  advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Dimensions' })).id;
  partnerId = (await create(server, '/api/v1/partners', { name: 'Partner' })).id;
  fallbackId = (await create(server, '/api/v1/offers', { advertiser_id: advertiserId, name: 'fallback', destination_url: 'https://fallback.example/?tid={transaction_id}' })).id;
});
afterAll(async () => server?.close());

interface Visitor {
  ip?: string;
  ua?: string;
  language?: string;
  query?: Record<string, string>;
}

let serial = 0;
/**
 * The reason the entry with `ruleset` (on its offer, or on the entry itself) was skipped for
 * `visitor` in a priority link with a fallback behind it; null when it took the click.
 */
async function verdict(ruleset: unknown, visitor: Visitor, on: 'offer' | 'entry' = 'offer'): Promise<number | null> {
  serial++;
  const offer = await create(server, '/api/v1/offers', {
    advertiser_id: advertiserId, name: `dimension ${serial}`, destination_url: `https://targeted${serial}.example/?tid={transaction_id}`, ...(on === 'offer' ? { ruleset } : {}),
  });
  const link = await create(server, '/api/v1/smart-links', {
    name: `link ${serial}`, routing: 'priority',
    entries: [{ offer_id: offer.id, routing_value: 1, ...(on === 'entry' ? { ruleset } : {}) }, { offer_id: fallbackId, routing_value: 2 }],
  });
  const token = (await server.call('POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: partnerId })).body.token as string;
  const headers: Record<string, string> = { 'user-agent': visitor.ua ?? IPHONE, 'x-forwarded-for': visitor.ip ?? US };
  if (visitor.language) headers['accept-language'] = visitor.language;
  const answer = await clickOn(server.url, token, visitor.query ?? {}, headers);
  expect(answer.status).toBe(302);
  const click = (await server.call('GET', `/api/v1/clicks/${transactionIdIn(answer.location)}`)).body;
  const skipped = click.skipped.find((s: { entry_id: number }) => s.entry_id === link.entries[0].id);
  expect(click.outcome).toBe('routed');
  expect(click.entry_id).toBe(skipped ? link.entries[1].id : link.entries[0].id);
  return skipped?.reason ?? null;
}

const rules = (...list: [string, 'include' | 'exclude', ...string[]][]) => ({
  rules: list.map(([dimension, op, ...values]) => ({ dimension, op, values })),
});

describe('each dimension through a click (SPEC §6)', () => {
  it.each([
    // [name, ruleset, visitor, expected reason or null]
    ['country include, any case', rules(['country', 'include', 'us']), { ip: US }, null],
    ['country include, other country', rules(['country', 'include', 'DE']), { ip: US }, 9],
    ['country include, no geo', rules(['country', 'include', 'US']), { ip: NOWHERE }, 9],
    ['country exclude, no geo', rules(['country', 'exclude', 'US']), { ip: NOWHERE }, null],
    ['country over IPv6', rules(['country', 'include', 'de']), { ip: DE_V6 }, null],
    ['region include without a city database', rules(['region', 'include', 'California']), { ip: US }, 10],
    ['region exclude without a city database', rules(['region', 'exclude', 'California']), { ip: US }, null],
    ['city include without a city database', rules(['city', 'include', 'London']), { ip: GB }, 11],
    ['city exclude without a city database', rules(['city', 'exclude', 'London']), { ip: GB }, null],
    ['os include, any case', rules(['os', 'include', 'ios']), {}, null],
    ['os exclude', rules(['os', 'exclude', 'IOS']), {}, 4],
    ['os include, empty user agent', rules(['os', 'include', 'iOS']), { ua: '' }, 4],
    ['os exclude, empty user agent', rules(['os', 'exclude', 'iOS']), { ua: '' }, null],
    ['device_type include, any case', rules(['device_type', 'include', 'MOBILE']), {}, null],
    ['device_type exclude', rules(['device_type', 'exclude', 'mobile']), {}, 5],
    ['device_type include, empty user agent', rules(['device_type', 'include', 'desktop']), { ua: '' }, 5],
    ['browser include, any case', rules(['browser', 'include', 'safari']), {}, null],
    ['browser exclude', rules(['browser', 'exclude', 'Safari']), {}, 6],
    ['brand include, any case', rules(['brand', 'include', 'apple']), {}, null],
    ['brand exclude', rules(['brand', 'exclude', 'Apple']), {}, 30],
    ['brand include, empty user agent', rules(['brand', 'include', 'Apple']), { ua: '' }, 30],
    ['language include, primary language in any case', rules(['language', 'include', 'EN']), { language: 'en-US,de;q=0.8' }, null],
    ['language include, another language', rules(['language', 'include', 'de']), { language: 'en-US' }, 8],
    ['language include, no Accept-Language', rules(['language', 'include', 'en']), {}, 8],
    ['language exclude, no Accept-Language', rules(['language', 'exclude', 'en']), {}, null],
    ['ip include, IPv4 CIDR', rules(['ip', 'include', '8.8.8.0/24']), { ip: US }, null],
    ['ip exclude, IPv4 CIDR', rules(['ip', 'exclude', '8.8.8.0/24']), { ip: US }, 13],
    ['ip include, IPv6 CIDR', rules(['ip', 'include', '2a00:1450::/32']), { ip: DE_V6 }, null],
    ['ip include, another network', rules(['ip', 'include', '2a00:1450::/32']), { ip: US }, 13],
    ['sub1 include, any case', rules(['sub1', 'include', 'Summer']), { query: { sub1: 'SUMMER' } }, null],
    ['sub2 include, absent', rules(['sub2', 'include', 'x']), {}, 102],
    ['sub3 exclude', rules(['sub3', 'exclude', 'x']), { query: { sub3: 'X' } }, 103],
    ['sub4 exclude, absent', rules(['sub4', 'exclude', 'x']), {}, null],
    ['sub5 include, another value', rules(['sub5', 'include', 'x']), { query: { sub5: 'y' } }, 105],
    ['source_id include, any case', rules(['source_id', 'include', 'S1']), { query: { source_id: 's1' } }, null],
    ['source_id exclude', rules(['source_id', 'exclude', 's1']), { query: { source_id: 'S1' } }, 106],
    ['is_bot include false, a bot', rules(['is_bot', 'include', 'false']), { ua: GOOGLEBOT }, 905],
    ['is_bot exclude TRUE, a bot', rules(['is_bot', 'exclude', 'TRUE']), { ua: GOOGLEBOT }, 905],
    ['is_bot include false, a person', rules(['is_bot', 'include', 'false']), {}, null],
    ['os_version min', { rules: [{ dimension: 'os_version', op: 'include', min: '17' }] }, {}, null],
    ['os_version max', { rules: [{ dimension: 'os_version', op: 'include', max: '16' }] }, {}, 7],
    ['os_version exclude a range', { rules: [{ dimension: 'os_version', op: 'exclude', min: '17', max: '17' }] }, {}, 7],
    ['os_version include, empty user agent', { rules: [{ dimension: 'os_version', op: 'include', min: '1' }] }, { ua: '' }, 7],
    ['day parting in a fixed zone, inside', { day_parting: { timezone: 'UTC', windows: [{ days: [3], start: '11:00', end: '13:00' }] } }, {}, null],
    ['day parting in a fixed zone, outside', { day_parting: { timezone: 'UTC', windows: [{ days: [3], start: '13:00', end: '14:00' }] } }, {}, 17],
    ["day parting in the visitor's zone (13:00 in London)", { day_parting: { windows: [{ days: [3], start: '13:00', end: '14:00' }] } }, { ip: GB }, null],
    ["day parting in the visitor's zone, no geo", { day_parting: { windows: [{ days: [3], start: '00:00', end: '24:00' }] } }, { ip: NOWHERE }, 17],
  ] as [string, unknown, Visitor, number | null][])('%s', async (_name, ruleset, visitor, expected) => {
    expect(await verdict(ruleset, visitor)).toBe(expected);
  });
});

describe('how rules combine through a click (SPEC §6)', () => {
  it('AND across dimensions: the first failing dimension names the reason', async () => {
    expect(await verdict(rules(['os', 'include', 'iOS'], ['country', 'include', 'DE']), { ip: US })).toBe(9);
    expect(await verdict(rules(['os', 'include', 'iOS'], ['country', 'include', 'US']), { ip: US })).toBeNull();
  });

  it('OR within a dimension, also across two include rules; an exclude of the same value wins', async () => {
    expect(await verdict(rules(['country', 'include', 'DE'], ['country', 'include', 'US']), { ip: US })).toBeNull();
    expect(await verdict(rules(['country', 'include', 'DE', 'US'], ['country', 'exclude', 'us']), { ip: US })).toBe(9);
  });

  it('a more specific geo include overrides a broader exclude only for a visitor it places: without a city database no one', async () => {
    expect(await verdict(rules(['country', 'exclude', 'US'], ['city', 'include', 'New York']), { ip: US })).toBe(9);
  });

  it("an entry's ruleset is checked as an offer's is; an empty ruleset accepts a visitor about whom nothing is known", async () => {
    expect(await verdict(rules(['country', 'include', 'DE']), { ip: US }, 'entry')).toBe(9);
    expect(await verdict({}, { ip: NOWHERE, ua: '' })).toBeNull();
    expect(await verdict({ rules: [] }, { ip: NOWHERE, ua: '' }, 'entry')).toBeNull();
  });
});
