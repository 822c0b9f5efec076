import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/api-server.js';
import { clickOn, transactionIdIn } from '../support/clicks.js';
import { testClock } from '../support/clock.js';
import { uniqueName } from '../support/conversions.js';
import { create } from '../support/fixtures.js';

/**
 * Explain (SPEC §4.8) for a returning visitor, answered as that visitor's real click would be:
 * - the offer cookie `sy_o<offer id>` a browser sends is what the default duplicate identifier
 *   (`cookie`) and `{unique_click}` recognise it by, so explain takes the Cookie header;
 * - at a past `at`: the duplicate memory (SPEC §9) keeps only each visitor's latest click. A click
 *   after `at` cannot make the explained click a duplicate, and memory cannot tell whether an
 *   earlier one fell within the window, so explain says so instead of reporting a duplicate. The
 *   click path is unchanged: it asks with its own clock.
 */

const clock = testClock('2025-09-01T12:00:00.000Z');
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1';
let server: TestServer;
let advertiserId: number;
let partnerId: number;
let fallbackId: number;

beforeAll(async () => {
  server = await startServer({ now: clock.now, env: { TRUST_PROXY: '127.0.0.1', POSTBACK_CONCURRENCY: '0' } });
  advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Explain cookies' })).id;
  partnerId = (await create(server, '/api/v1/partners', { name: 'Partner' })).id;
  fallbackId = (await create(server, '/api/v1/offers', { advertiser_id: advertiserId, name: 'fallback', destination_url: 'https://fallback.example/?tid={transaction_id}' })).id;
});
afterAll(async () => server?.close());

/** An offer with the given duplicate filter first in a priority link, the fallback second. */
async function filteredLink(duplicateFilter: Record<string, unknown>) {
  const name = uniqueName('cookie-offer');
  const host = `${name.replace(/\W/g, '-')}.example`;
  const offer = await create(server, '/api/v1/offers', {
    advertiser_id: advertiserId, name, destination_url: `https://${host}/?tid={transaction_id}&u={unique_click}`, duplicate_filter: duplicateFilter,
  });
  const link = await create(server, '/api/v1/smart-links', {
    name: uniqueName('link'), routing: 'priority', entries: [{ offer_id: offer.id, routing_value: 1 }, { offer_id: fallbackId, routing_value: 2 }],
  });
  const token = (await server.call('POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: partnerId })).body.token as string;
  const click = async (ip: string, cookie?: string) => {
    const headers: Record<string, string> = { 'user-agent': IPHONE, 'x-forwarded-for': ip };
    if (cookie !== undefined) headers.cookie = cookie;
    const answer = await clickOn(server.url, token, {}, headers);
    expect(answer.status).toBe(302);
    const location = new URL(answer.location ?? '');
    return { host: location.hostname, tid: transactionIdIn(answer.location), unique: location.searchParams.get('u'), setCookie: answer.headers.get('set-cookie') };
  };
  const explain = async (body: Record<string, unknown>) => {
    const res = await server.call('POST', `/api/v1/smart-links/${link.id}/explain`, { partner_id: partnerId, user_agent: IPHONE, seed: 1, ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };
  return { offer, host, linkId: link.id, entryId: link.entries[0].id as number, click, explain };
}

describe('explain with the Cookie header of a returning browser', () => {
  it('shows the duplicate (reason 21) the browser\'s second real click gets, and no duplicate without the cookie', async () => {
    const { offer, host, entryId, click, explain } = await filteredLink({ enabled: true, identifier: 'cookie', window_hours: 24 });
    const first = await click('10.0.30.1');
    expect(first.host).toBe(host);
    const offerCookie = first.setCookie?.split(';')[0] ?? '';
    expect(offerCookie).toBe(`sy_o${offer.id}=${first.tid}`);
    // What the browser sends back: its other cookies on the tracking domain too.
    const header = `theme=dark; ${offerCookie}; _ga=GA1.1.123`;
    clock.advance(60_000);

    const explained = await explain({ ip: '10.0.30.2', cookie: header });
    expect(explained.candidates[0]).toMatchObject({ entry_id: entryId, eligible: false, reason: 21 });
    expect(explained.candidates[0].duplicate).toMatchObject({ identifier: 'cookie', identified: true, seen: true });
    expect(explained.context.offer_cookies).toEqual({ [offer.id]: { transaction_id: first.tid, visitor_id: first.tid } });
    expect(explained.decision).toMatchObject({ outcome: 'routed', offer_id: fallbackId });

    const second = await click('10.0.30.2', header);
    expect(second.host).toBe('fallback.example');
    expect((await server.call('GET', `/api/v1/clicks/${second.tid}`)).body.skipped).toEqual([{ entry_id: entryId, reason: 21 }]);

    // A fresh browser (no cookie) is not recognised, in explain as in a real click.
    const fresh = await explain({ ip: '10.0.30.2' });
    expect(fresh.candidates[0]).toMatchObject({ eligible: true, reason: null });
    expect(fresh.candidates[0].duplicate).toMatchObject({ identified: false, seen: false });
    expect(fresh.decision.offer_id).toBe(offer.id);
    expect((await click('10.0.30.3')).host).toBe(host);
  });

  it('{unique_click} is 0 for the returning browser, as in its real click, with the filter off', async () => {
    const { offer, click, explain } = await filteredLink({ enabled: false, identifier: 'cookie' });
    const first = await click('10.0.31.1');
    expect(first.unique).toBe('1');
    const header = first.setCookie?.split(';')[0] ?? '';
    clock.advance(60_000);
    const explained = await explain({ cookie: header });
    expect(explained.decision.offer_id).toBe(offer.id);
    expect(new URL(explained.decision.destination_url).searchParams.get('u')).toBe('0');
    expect((await click('10.0.31.2', header)).unique).toBe('0');
    expect(new URL((await explain({})).decision.destination_url).searchParams.get('u')).toBe('1');
  });

  it('refuses a cookie that is not a string or too long, and ignores cookies that are not offer cookies', async () => {
    const { linkId, explain } = await filteredLink({ enabled: true });
    for (const cookie of [42, { a: 1 }, 'x='.padEnd(8193, 'a')]) {
      const res = await server.call('POST', `/api/v1/smart-links/${linkId}/explain`, { partner_id: partnerId, cookie });
      expect(res.status, JSON.stringify(cookie).slice(0, 40)).toBe(400);
      expect(res.body.error.details[0].path).toBe('cookie');
    }
    const other = await explain({ cookie: 'sy_o1=not-a-transaction-id; session=abc' });
    expect(other.context.offer_cookies).toEqual({});
    expect(other.candidates[0].duplicate).toMatchObject({ identified: false });
    expect((await explain({ cookie: null })).candidates[0].duplicate).toMatchObject({ identified: false });
  });
});

describe('explain at a past time', () => {
  it('a click after `at` does not make the explained click a duplicate; memory that cannot tell says so', async () => {
    clock.set('2025-10-01T12:00:00.000Z');
    const { offer, host, click, explain } = await filteredLink({ enabled: true, identifier: 'ip', window_hours: 24 });
    expect((await click('10.0.40.1')).host).toBe(host);

    // One hour before the visitor's only click: not a duplicate of a click it had not made yet.
    const before = await explain({ ip: '10.0.40.1', at: '2025-10-01T11:00:00.000Z' });
    expect(before.candidates[0]).toMatchObject({ eligible: true, reason: null });
    expect(before.candidates[0].duplicate).toMatchObject({ identified: true, seen: null, last_click_at: '2025-10-01T12:00:00.000Z' });
    expect(before.decision).toMatchObject({ outcome: 'routed', offer_id: offer.id });
    expect(new URL(before.decision.destination_url).searchParams.get('u')).toBe('1');
    expect(before.notes.join('\n')).toMatch(new RegExp(`offer ${offer.id}: .*2025-10-01T12:00:00.000Z.* is after \`at\`.*unknown`));

    // After the click and within the window: the duplicate a real click then gets.
    const after = await explain({ ip: '10.0.40.1', at: '2025-10-01T13:00:00.000Z' });
    expect(after.candidates[0]).toMatchObject({ eligible: false, reason: 21 });
    expect(after.candidates[0].duplicate).toMatchObject({ seen: true, last_click_at: '2025-10-01T12:00:00.000Z' });
    expect(after.decision.offer_id).toBe(fallbackId);
    expect(after.notes.join('\n')).not.toContain('after `at`');
    clock.set('2025-10-01T13:00:00.000Z');
    expect((await click('10.0.40.1')).host).toBe('fallback.example');

    // After the window: new again, as the real click then.
    const later = await explain({ ip: '10.0.40.1', at: '2025-10-02T12:00:00.000Z' });
    expect(later.candidates[0].duplicate).toMatchObject({ seen: false });
    expect(later.decision.offer_id).toBe(offer.id);
  });

  it('a past `at` says it is checked against the state as it stands now (caps, duplicate memory); a future or absent one does not', async () => {
    clock.set('2025-10-03T12:00:00.000Z');
    const { explain } = await filteredLink({ enabled: true, identifier: 'ip', window_hours: 24 });
    const pastNote = /`at` is in the past, and explain checks it against the state as it stands now/;
    expect((await explain({ ip: '10.0.42.1', at: '2025-10-02T12:00:00.000Z' })).notes.join('\n')).toMatch(pastNote);
    expect((await explain({ ip: '10.0.42.1', at: '2025-10-04T12:00:00.000Z' })).notes.join('\n')).not.toMatch(pastNote);
    expect((await explain({ ip: '10.0.42.1' })).notes.join('\n')).not.toMatch(pastNote);
  });

  it('{unique_click} with the filter off is not made 0 by a later click', async () => {
    clock.set('2025-10-05T12:00:00.000Z');
    const { offer, click, explain } = await filteredLink({ enabled: false, identifier: 'ip' });
    expect((await click('10.0.41.1')).unique).toBe('1');
    const before = await explain({ ip: '10.0.41.1', at: '2025-10-05T11:00:00.000Z' });
    expect(before.decision.offer_id).toBe(offer.id);
    expect(new URL(before.decision.destination_url).searchParams.get('u')).toBe('1');
    expect(before.candidates[0].duplicate).toMatchObject({ seen: null });
    expect(new URL((await explain({ ip: '10.0.41.1', at: '2025-10-05T12:30:00.000Z' })).decision.destination_url).searchParams.get('u')).toBe('0');
  });

  it('the click path is unchanged: a clock stepped back still finds the later click a duplicate, and explain without `at` agrees', async () => {
    clock.set('2025-10-08T12:00:00.000Z');
    const { host, click, explain } = await filteredLink({ enabled: true, identifier: 'ip', window_hours: 24 });
    expect((await click('10.0.42.1')).host).toBe(host);
    clock.set('2025-10-08T11:59:59.000Z'); // the clock stepped back a second
    const now = await explain({ ip: '10.0.42.1' });
    expect(now.candidates[0]).toMatchObject({ eligible: false, reason: 21 });
    expect(now.candidates[0].duplicate).toMatchObject({ seen: true });
    expect((await click('10.0.42.1')).host).toBe('fallback.example');
  });

  it('an offer cookie that names a click after `at` does not make the explained click a duplicate either', async () => {
    clock.set('2025-10-10T12:00:00.000Z');
    const { click, explain } = await filteredLink({ enabled: true, identifier: 'cookie' });
    const cookie = (await click('10.0.43.1')).setCookie?.split(';')[0] ?? '';
    const before = await explain({ cookie, at: '2025-10-10T11:00:00.000Z' });
    expect(before.candidates[0]).toMatchObject({ eligible: true });
    expect(before.candidates[0].duplicate).toMatchObject({ identified: true, seen: null, last_click_at: '2025-10-10T12:00:00.000Z' });
    const after = await explain({ cookie, at: '2025-10-10T13:00:00.000Z' });
    expect(after.candidates[0]).toMatchObject({ eligible: false, reason: 21 });
  });
});
