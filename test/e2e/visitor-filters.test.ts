import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/api-server.js';
import { clickOn, transactionIdIn } from '../support/clicks.js';
import { testClock } from '../support/clock.js';
import { postback, uniqueName } from '../support/conversions.js';
import { create } from '../support/fixtures.js';

/**
 * The duplicate filter and the already-converted filter (SPEC §9, §4.7 checks 7–8) through the
 * real server: inside a smart link a duplicate skips its entry with reason 21 and routing moves
 * on; a converted visitor skips it with reason 27; with the filter off duplicates route and are
 * counted non-unique. The memory survives a restart. Time moves by an injected clock.
 */

const clock = testClock('2025-06-10T12:00:00.000Z');
let server: TestServer;
let advertiserId: number;
let partnerId: number;
let fallbackId: number;

const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1';
const ANDROID = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36';

async function open(dataDir?: string) {
  // TRUST_PROXY lets each test visitor bring its own address in X-Forwarded-For.
  server = await startServer({ dataDir, now: clock.now, env: { TRUST_PROXY: '127.0.0.1', POSTBACK_CONCURRENCY: '0' } });
}

beforeAll(async () => {
  await open();
  advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Filters' })).id;
  partnerId = (await create(server, '/api/v1/partners', { name: 'Partner' })).id;
  fallbackId = (await create(server, '/api/v1/offers', { advertiser_id: advertiserId, name: 'fallback', destination_url: 'https://fallback.example/?tid={transaction_id}' })).id;
});
afterAll(async () => server?.close());

interface Visitor {
  ip?: string;
  ua?: string;
  cookie?: string;
  query?: Record<string, string>;
}

interface Routed {
  host: string;
  tid: string;
  unique: string | null;
  setCookie: string | null;
}

/** An offer (filter as given) first in a priority link, the fallback second. */
async function filteredLink(offerBody: Record<string, unknown>) {
  const name = uniqueName('filtered');
  const host = name.replace(/\W/g, '-');
  const offer = await create(server, '/api/v1/offers', {
    advertiser_id: advertiserId, name, destination_url: `https://${host}.example/?tid={transaction_id}&u={unique_click}`, ...offerBody,
  });
  const link = await create(server, '/api/v1/smart-links', {
    name: uniqueName('link'), routing: 'priority', entries: [{ offer_id: offer.id, routing_value: 1 }, { offer_id: fallbackId, routing_value: 2 }],
  });
  const token = (await server.call('POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: partnerId })).body.token as string;
  const click = async (visitor: Visitor): Promise<Routed> => {
    const headers: Record<string, string> = { 'user-agent': visitor.ua ?? IPHONE };
    if (visitor.ip) headers['x-forwarded-for'] = visitor.ip;
    if (visitor.cookie) headers.cookie = visitor.cookie;
    const answer = await clickOn(server.url, token, visitor.query ?? {}, headers);
    expect(answer.status).toBe(302);
    const location = new URL(answer.location ?? '');
    return { host: location.hostname, tid: transactionIdIn(answer.location), unique: location.searchParams.get('u'), setCookie: answer.headers.get('set-cookie') };
  };
  return { offer, entryId: link.entries[0].id as number, host: `${host}.example`, click };
}

async function skipped(tid: string) {
  return (await server.call('GET', `/api/v1/clicks/${tid}`)).body.skipped;
}

const filter = (identifier: string, windowHours = 24) => ({ duplicate_filter: { enabled: true, identifier, window_hours: windowHours } });

describe('duplicate filter per identifier (SPEC §9)', () => {
  it.each([
    ['ip', { ip: '10.0.0.1' }, { ip: '10.0.0.1', ua: ANDROID }, { ip: '10.0.0.2' }],
    ['ip_user_agent', { ip: '10.0.1.1', ua: IPHONE }, { ip: '10.0.1.1', ua: IPHONE }, { ip: '10.0.1.1', ua: ANDROID }],
    ['gaid', { query: { gaid: 'AAAA-1111' } }, { ip: '10.0.2.9', query: { gaid: 'aaaa-1111' } }, { query: { gaid: 'bbbb-2222' } }],
    ['idfa', { query: { idfa: 'CCCC-3333' } }, { ip: '10.0.3.9', query: { idfa: 'CCCC-3333' } }, { query: { idfa: 'DDDD-4444' } }],
  ] as const)('identifier %s: the same visitor again within the window skips the entry (reason 21); another visitor routes', async (identifier, first, again, other) => {
    const { host, entryId, click } = await filteredLink(filter(identifier));
    expect((await click(first)).host).toBe(host);
    const duplicate = await click(again);
    expect(duplicate.host).toBe('fallback.example');
    expect(await skipped(duplicate.tid)).toEqual([{ entry_id: entryId, reason: 21 }]);
    expect((await click(other)).host).toBe(host);
  });

  it.each(['idfa', 'gaid'])('identifier %s: users who turned ad tracking off (an id of zeros) are not one visitor, for duplicates, uniqueness or conversions', async (identifier) => {
    const ZEROED = '00000000-0000-0000-0000-000000000000';
    const { host, click } = await filteredLink({ ...filter(identifier), block_already_converted: true });
    const first = await click({ ip: '10.0.9.1', query: { [identifier]: ZEROED } });
    expect(first).toMatchObject({ host, unique: '1' });
    expect((await postback(server, { transaction_id: first.tid })).body.status).toBe('approved');
    const second = await click({ ip: '10.0.9.2', query: { [identifier]: ZEROED } });
    expect(second).toMatchObject({ host, unique: '1' });
    expect(await skipped(second.tid)).toEqual([]);
  });

  it('identifier cookie: the browser that holds the offer cookie is a duplicate, a fresh browser is not', async () => {
    const { offer, host, entryId, click } = await filteredLink(filter('cookie'));
    const first = await click({ ip: '10.0.4.1' });
    expect(first.host).toBe(host);
    const cookie = `sy_o${offer.id}=${first.tid}`;
    expect(first.setCookie).toContain(cookie);
    const again = await click({ ip: '10.0.4.2', cookie });
    expect(again.host).toBe('fallback.example');
    expect(await skipped(again.tid)).toEqual([{ entry_id: entryId, reason: 21 }]);
    expect((await click({ ip: '10.0.4.1' })).host).toBe(host);
  });

  it('the window expires: a duplicate within window_hours, a new visitor once it has passed', async () => {
    clock.set('2025-06-10T12:00:00.000Z');
    const { host, click } = await filteredLink(filter('ip', 2));
    expect((await click({ ip: '10.0.5.1' })).host).toBe(host);
    clock.set('2025-06-10T13:59:59.000Z');
    expect((await click({ ip: '10.0.5.1' })).host).toBe('fallback.example');
    clock.set('2025-06-10T14:00:00.000Z');
    expect((await click({ ip: '10.0.5.1' })).host).toBe(host);
  });

  it('identifier cookie: the window runs from the browser\'s latest click on the offer, not its first', async () => {
    const { host, click } = await filteredLink({ duplicate_filter: { enabled: false, identifier: 'cookie', window_hours: 24 } });
    const cookieFrom = (routed: Routed) => routed.setCookie?.split(';')[0] ?? '';
    clock.set('2025-06-10T00:00:00.000Z');
    const first = await click({ ip: '10.0.4.9' });
    clock.set('2025-06-10T23:00:00.000Z');
    const second = await click({ ip: '10.0.4.9', cookie: cookieFrom(first) });
    clock.set('2025-06-11T01:00:00.000Z'); // 2 h after the second click, 25 h after the first
    const third = await click({ ip: '10.0.4.9', cookie: cookieFrom(second) });
    expect([first.host, second.host, third.host]).toEqual([host, host, host]);
    expect([first.unique, second.unique, third.unique]).toEqual(['1', '0', '0']);
    expect((await server.call('GET', `/api/v1/clicks/${third.tid}`)).body.is_unique).toBe(false);
  });

  it('identifier cookie with the filter on: a browser that clicked within the window is a duplicate however long ago its first click was', async () => {
    const { host, click } = await filteredLink(filter('cookie', 24));
    const cookieFrom = (routed: Routed) => routed.setCookie?.split(';')[0] ?? '';
    clock.set('2025-06-12T00:00:00.000Z');
    const first = await click({ ip: '10.0.4.10' });
    clock.set('2025-06-13T01:00:00.000Z'); // 25 h on: a new visit, routed to the offer
    const second = await click({ ip: '10.0.4.10', cookie: cookieFrom(first) });
    expect(second.host).toBe(host);
    clock.set('2025-06-13T03:00:00.000Z'); // 2 h after the second click
    expect((await click({ ip: '10.0.4.10', cookie: cookieFrom(second) })).host).toBe('fallback.example');
  });

  it('with the filter off, duplicates are routed and marked non-unique ({unique_click} = 0, is_unique false)', async () => {
    const { host, click } = await filteredLink({ duplicate_filter: { enabled: false, identifier: 'ip' } });
    const first = await click({ ip: '10.0.6.1' });
    const second = await click({ ip: '10.0.6.1' });
    expect([first.host, second.host]).toEqual([host, host]);
    expect([first.unique, second.unique]).toEqual(['1', '0']);
    const stored = await Promise.all([first, second].map(async (c) => (await server.call('GET', `/api/v1/clicks/${c.tid}`)).body.is_unique));
    expect(stored).toEqual([true, false]);
  });

  it('explain shows the duplicate status and leaves the memory untouched', async () => {
    const { offer, click } = await filteredLink(filter('ip'));
    await click({ ip: '10.0.7.1' });
    const explain = async (ip: string) => {
      const links = (await server.call('GET', '/api/v1/smart-links?page_size=500')).body.data as { id: number; entries: { offer_id: number }[] }[];
      const link = links.find((l) => l.entries[0]?.offer_id === offer.id);
      const res = await server.call('POST', `/api/v1/smart-links/${link?.id}/explain`, { partner_id: partnerId, ip, user_agent: IPHONE, seed: 1 });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.candidates[0];
    };
    expect((await explain('10.0.7.1')).duplicate).toEqual({ enabled: true, identifier: 'ip', window_hours: 24, identified: true, seen: true, last_click_at: new Date(clock.now()).toISOString(), already_converted: false });
    expect((await explain('10.0.7.2')).duplicate).toMatchObject({ seen: false });
    expect((await explain('10.0.7.2')).duplicate).toMatchObject({ seen: false });
  });
});

describe('a duplicate filter changed while traffic flows', () => {
  it('a longer window reaches visitors the old one had already forgotten, as it would after a restart', async () => {
    clock.set('2025-07-01T00:00:00.000Z');
    const { offer, host, click } = await filteredLink(filter('ip', 24));
    expect((await click({ ip: '10.0.20.1' })).host).toBe(host);
    clock.advance(30 * 3_600_000);
    server.pruneLiveState();
    expect((await server.call('PATCH', `/api/v1/offers/${offer.id}`, filter('ip', 72))).status).toBe(200);
    expect((await click({ ip: '10.0.20.1' })).host).toBe('fallback.example');
  });

  it('another identifier recognises the visitors of the window by it at once', async () => {
    clock.set('2025-07-05T00:00:00.000Z');
    const { offer, host, click } = await filteredLink(filter('ip'));
    expect((await click({ ip: '10.0.21.1', query: { gaid: 'eeee-5555' } })).host).toBe(host);
    expect((await server.call('PATCH', `/api/v1/offers/${offer.id}`, filter('gaid'))).status).toBe(200);
    expect((await click({ ip: '10.0.21.2', query: { gaid: 'eeee-5555' } })).host).toBe('fallback.example');
  });

  it('no click is served under the new identifier before its memory is read: a returning visitor is a duplicate from the first click the change routes', async () => {
    clock.set('2025-07-07T00:00:00.000Z');
    // A year's window: the stored clicks are read back an hour at a time, with a turn for clicks between hours.
    const { offer, host, click } = await filteredLink(filter('ip', 8760));
    expect((await click({ ip: '10.0.22.1', query: { gaid: 'ffff-6666' } })).host).toBe(host);
    // The destination changes with the identifier, so an answer shows which configuration routed it.
    const changed = `${host.replace('.example', '')}-v2.example`;
    let settled = false;
    const patched = server
      .call('PATCH', `/api/v1/offers/${offer.id}`, { ...filter('gaid', 8760), destination_url: `https://${changed}/?tid={transaction_id}&u={unique_click}` })
      .finally(() => (settled = true));
    const hosts: string[] = [];
    // The same device (gaid) from new addresses while the change is applied, and once after it.
    for (let after = false; !after && hosts.length < 5000; ) {
      after = settled;
      const i = hosts.length;
      hosts.push((await click({ ip: `10.1.${Math.floor(i / 250)}.${i % 250}`, query: { gaid: 'ffff-6666' } })).host);
    }
    expect((await patched).status).toBe(200);
    // Under the old identifier (ip) each new address is a new visitor; under the new one (gaid) the device clicked within the window.
    expect(hosts.filter((h) => h === changed)).toEqual([]);
    expect(hosts.at(-1)).toBe('fallback.example');
  });
});

describe('the address behind a trusted proxy', () => {
  it('is the client address without the port some proxies append; what is no address gives way to the peer', async () => {
    const { host, click } = await filteredLink(filter('ip'));
    const stored = async (tid: string) => (await server.call('GET', `/api/v1/clicks/${tid}`)).body;
    const first = await click({ ip: '8.8.8.8:51234' });
    expect(first.host).toBe(host);
    expect(await stored(first.tid)).toMatchObject({ ip: '8.8.8.8', geo: expect.objectContaining({ country: 'US' }) });
    // Another connection of the same visitor comes from another port: the same address, a duplicate.
    expect((await click({ ip: '8.8.8.8:40001' })).host).toBe('fallback.example');
    expect((await stored((await click({ ip: '[2001:4860:4860::8888]:443' })).tid)).ip).toBe('2001:4860:4860::8888');
    expect((await stored((await click({ ip: 'not-an-address' })).tid)).ip).toBe('127.0.0.1');
  });
});

describe('already-converted filter (SPEC §9, reason 27)', () => {
  it.each([
    // The same address comes back (without any cookie).
    ['ip', (): Visitor => ({ ip: '10.0.8.1' })],
    // The same browser comes back from another address, with the cookie of its converted click.
    ['cookie', (tid: string, offerId: number): Visitor => ({ ip: '10.0.8.3', cookie: `sy_o${offerId}=${tid}` })],
  ] as const)('identifier %s: after a postback for a visitor, that visitor\'s next click skips the offer with reason 27', async (identifier, returning) => {
    const { offer, host, entryId, click } = await filteredLink({ block_already_converted: true, duplicate_filter: { enabled: false, identifier } });
    const first = await click({ ip: identifier === 'ip' ? '10.0.8.1' : '10.0.8.2' });
    expect(first.host).toBe(host);
    expect((await postback(server, { transaction_id: first.tid })).body.status).toBe('approved');
    const next = await click(returning(first.tid, offer.id));
    expect(next.host).toBe('fallback.example');
    expect(await skipped(next.tid)).toEqual([{ entry_id: entryId, reason: 27 }]);
    expect((await click({ ip: '10.0.8.99' })).host).toBe(host);
  });
});

describe('the cookie identifier follows the browser, not its latest click', () => {
  /** The Cookie header a browser sends back after `answer` set its offer cookie. */
  const cookieFrom = (answer: Routed) => answer.setCookie?.split(';')[0] ?? '';

  it('a conversion reported for an earlier click blocks the browser that clicked again since (reason 27), also after a restart', async () => {
    const { offer, host, entryId, click } = await filteredLink({ block_already_converted: true, duplicate_filter: { enabled: false, identifier: 'cookie' } });
    const first = await click({ ip: '10.0.11.1' });
    const second = await click({ ip: '10.0.11.1', cookie: cookieFrom(first) });
    expect([first.host, second.host]).toEqual([host, host]);
    // The cookie now names the second click (a pixel converts that one) and still the first as the visitor.
    expect(cookieFrom(second)).toBe(`sy_o${offer.id}=${second.tid}.${first.tid}`);
    expect((await server.call('GET', `/api/v1/clicks/${second.tid}`)).body.visitor_id).toBe(first.tid);
    // Partner keys do not see it (the first click may have come through another partner), nor the advertiser.
    const key = (await server.call('POST', `/api/v1/partners/${partnerId}/api-keys`)).body.key;
    const asPartner = await server.call('GET', `/api/v1/clicks/${second.tid}`, undefined, { key });
    expect(asPartner.status).toBe(200);
    expect(asPartner.body).not.toHaveProperty('visitor_id');
    expect(asPartner.body).not.toHaveProperty('advertiser_id');
    expect((await server.call('GET', `/api/v1/clicks/${second.tid}`)).body.advertiser_id).toBe(advertiserId);

    // The advertiser reports the first click's conversion after the visitor clicked again.
    expect((await postback(server, { transaction_id: first.tid })).body.status).toBe('approved');
    const third = await click({ ip: '10.0.11.2', cookie: cookieFrom(second) });
    expect(third.host).toBe('fallback.example');
    expect(await skipped(third.tid)).toEqual([{ entry_id: entryId, reason: 27 }]);

    const { dataDir } = server;
    await server.close();
    await open(dataDir);
    const afterRestart = await click({ ip: '10.0.11.3', cookie: cookieFrom(second) });
    expect(afterRestart.host).toBe('fallback.example');
    expect((await click({ ip: '10.0.11.4' })).host).toBe(host);
  });

  it('a pixel conversion is attributed to the latest click the cookie names', async () => {
    const { offer, host, click } = await filteredLink({ conversion_method: 'cookie' });
    const first = await click({ ip: '10.0.12.1' });
    const second = await click({ ip: '10.0.12.1', cookie: cookieFrom(first) });
    expect(second.host).toBe(host);
    const pixel = await fetch(`${server.url}/pixel?offer_id=${offer.id}`, { headers: { cookie: cookieFrom(second) } });
    expect(pixel.status).toBe(200);
    await pixel.arrayBuffer();
    const converted = (await server.call('GET', `/api/v1/conversions?offer_id=${offer.id}`)).body.data;
    expect(converted.map((c: { transaction_id: string }) => c.transaction_id)).toEqual([second.tid]);
  });
});

describe('visitor memory across a restart', () => {
  it('duplicate and already-converted memory are rebuilt from stored clicks and conversions', async () => {
    clock.set('2025-06-20T12:00:00.000Z');
    const dup = await filteredLink(filter('ip'));
    const conv = await filteredLink({ block_already_converted: true, duplicate_filter: { enabled: false, identifier: 'ip' } });
    expect((await dup.click({ ip: '10.0.9.1' })).host).toBe(dup.host);
    const converted = await conv.click({ ip: '10.0.9.2' });
    expect((await postback(server, { transaction_id: converted.tid })).body.status).toBe('approved');

    const { dataDir } = server;
    await server.close();
    await open(dataDir);

    // `click` reads the module's `server`, now the restarted one on the same data directory.
    const duplicate = await dup.click({ ip: '10.0.9.1' });
    expect(duplicate.host).toBe('fallback.example');
    expect(await skipped(duplicate.tid)).toEqual([{ entry_id: dup.entryId, reason: 21 }]);
    const again = await conv.click({ ip: '10.0.9.2' });
    expect(again.host).toBe('fallback.example');
    expect(await skipped(again.tid)).toEqual([{ entry_id: conv.entryId, reason: 27 }]);
    expect((await dup.click({ ip: '10.0.9.3' })).host).toBe(dup.host);
  });

  it('each offer remembers exactly its own window, however far back the widest one reaches', async () => {
    clock.set('2025-06-25T06:00:00.000Z');
    const long = await filteredLink(filter('ip', 48));
    const short = await filteredLink(filter('ip', 2));
    expect((await long.click({ ip: '10.0.10.1' })).host).toBe(long.host);
    clock.set('2025-06-26T09:00:00.000Z');
    expect((await long.click({ ip: '10.0.10.2' })).host).toBe(long.host);
    expect((await short.click({ ip: '10.0.10.2' })).host).toBe(short.host);

    // 30 h after the first click and 3 h after the others.
    clock.set('2025-06-26T12:00:00.000Z');
    const { dataDir } = server;
    await server.close();
    await open(dataDir);

    for (const ip of ['10.0.10.1', '10.0.10.2']) {
      const again = await long.click({ ip });
      expect(again.host, `${ip} on the 48 h offer`).toBe('fallback.example');
      expect(await skipped(again.tid)).toEqual([{ entry_id: long.entryId, reason: 21 }]);
    }
    expect((await short.click({ ip: '10.0.10.2' })).host, 'past the 2 h window').toBe(short.host);
  });
});
