import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/api-server.js';
import { clickOn } from '../support/clicks.js';
import { create } from '../support/fixtures.js';

/**
 * What a click brings that the engine must read right (SPEC §4.1, §4.9, §6): the visitor's time
 * zone on the bundled country database, a long deep link, an unfilled sub. A real server; each
 * visitor brings its own address in X-Forwarded-For.
 */

let server: TestServer;
let advertiserId: number;
let partnerId: number;

beforeAll(async () => {
  server = await startServer({ env: { TRUST_PROXY: '127.0.0.1' } });
  advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Acme' })).id;
  partnerId = (await create(server, '/api/v1/partners', { name: 'Traffic Co' })).id;
});
afterAll(async () => server?.close());

async function linkTo(offerBody: Record<string, unknown>, trackingSubs: Record<string, string> = {}) {
  const offer = await create(server, '/api/v1/offers', { advertiser_id: advertiserId, name: `o-${Math.random()}`, ...offerBody });
  const link = await create(server, '/api/v1/smart-links', { name: `l-${Math.random()}`, entries: [{ offer_id: offer.id }] });
  const res = await server.call('POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: partnerId, ...trackingSubs });
  expect(res.status).toBe(201);
  return { offer, link, token: res.body.token as string };
}

describe("day parting in the visitor's time zone on the bundled country database", () => {
  it('places a visitor of a one-clock country (GB) in its zone; a visitor of a many-clock country (US) stays unknown and fails (17)', async () => {
    const { link, token } = await linkTo({
      destination_url: 'https://dp.example/?t={transaction_id}',
      ruleset: { day_parting: { windows: [{ days: [0, 1, 2, 3, 4, 5, 6], start: '00:00', end: '24:00' }] } },
    });
    const british = await clickOn(server.url, token, {}, { 'x-forwarded-for': '81.2.69.142' });
    expect(british.status).toBe(302);
    expect(british.location).toMatch(/^https:\/\/dp\.example\//);
    const explained = async (ip: string) => (await server.call('POST', `/api/v1/smart-links/${link.id}/explain`, { partner_id: partnerId, ip })).body;
    expect((await explained('81.2.69.142')).context.geo).toMatchObject({ country: 'GB', time_zone: 'Europe/London' });
    const american = await explained('8.8.8.8');
    expect(american.context.geo).toMatchObject({ country: 'US', time_zone: null });
    expect(american.candidates[0]).toMatchObject({ eligible: false, reason: 17 });
  });
});

describe("day parting in the visitor's time zone where one clock is the country's own", () => {
  it('places visitors in the clock most of their country keeps, although a few (Chatham, the Canaries, Hovd, the Marquesas) or none legally (Urumqi) keep another', async () => {
    const { link, token } = await linkTo({
      destination_url: 'https://dp-main.example/?t={transaction_id}',
      ruleset: { day_parting: { windows: [{ days: [0, 1, 2, 3, 4, 5, 6], start: '00:00', end: '24:00' }] } },
    });
    const visitors = [
      ['203.109.128.1', 'Pacific/Auckland'], ['80.58.61.250', 'Europe/Madrid'], ['114.114.114.114', 'Asia/Shanghai'],
      ['202.131.0.1', 'Asia/Ulaanbaatar'], ['123.50.64.1', 'Pacific/Tahiti'],
    ] as const;
    for (const [ip, zone] of visitors) {
      const explained = (await server.call('POST', `/api/v1/smart-links/${link.id}/explain`, { partner_id: partnerId, ip })).body;
      expect(explained.context.geo.time_zone, ip).toBe(zone);
      expect(explained.decision.outcome, ip).toBe('routed');
      const click = await clickOn(server.url, token, {}, { 'x-forwarded-for': ip });
      expect(click.status, ip).toBe(302);
    }
  });
});

describe('deep links longer than 512 characters', () => {
  it('are used whole, not cut at the 512 characters other query values are cut to, by a click and by explain', async () => {
    const { link, token } = await linkTo({
      destination_url: 'https://normal.example/?t={transaction_id}',
      deep_link: { enabled: true, allowed_hosts: ['shop.example'] },
    });
    const deepLink = `https://shop.example/product/42?utm_source=aff&ref=${'x'.repeat(520)}&variant=blue`;
    const answer = await clickOn(server.url, token, { url: deepLink });
    expect(answer.status).toBe(302);
    expect(answer.location).toBe(deepLink);
    const longer = `https://shop.example/p?ref=${'x'.repeat(5000)}`;
    expect((await clickOn(server.url, token, { url: longer })).location).toBe(longer);
    const explained = await server.call('POST', `/api/v1/smart-links/${link.id}/explain`, { partner_id: partnerId, query: { url: longer } });
    expect(explained.status).toBe(200);
    expect(explained.body.decision.destination_url).toBe(longer);
  });
});

describe('tracking-link default subs', () => {
  it("an empty subN= on the click (a partner's unfilled macro) does not wipe the tracking link's default", async () => {
    const { token } = await linkTo({ destination_url: 'https://subs.example/?t={transaction_id}&s2={sub2}' }, { sub2: 'newsletter' });
    const filled = await clickOn(server.url, token);
    expect(new URL(filled.location ?? '').searchParams.get('s2')).toBe('newsletter');
    const blank = await clickOn(server.url, token, { sub2: '' });
    expect(new URL(blank.location ?? '').searchParams.get('s2')).toBe('newsletter');
  });
});

describe('query values cut at 512 characters', () => {
  it('counts characters, not UTF-16 units: a value within 512 characters is kept whole, and a cut never splits a character', async () => {
    const emoji = '\u{1F600}'; // one character, two UTF-16 units
    const { token } = await linkTo(
      { destination_url: 'https://cut.example/?t={transaction_id}&s1={sub1}&s2={sub2}' },
      { sub2: emoji.repeat(300) }, // accepted by the API: 300 characters
    );
    const answer = await clickOn(server.url, token, { sub1: `${'a'.repeat(511)}${emoji}tail` });
    expect(answer.status).toBe(302);
    const location = new URL(answer.location ?? '');
    // The tracking link's default, 300 characters, is not "longer than 512 characters".
    expect(location.searchParams.get('s2')).toBe(emoji.repeat(300));
    // 511 + the emoji = 512 characters: cut after the emoji, not through it.
    expect(location.searchParams.get('s1')).toBe(`${'a'.repeat(511)}${emoji}`);
    const tid = location.searchParams.get('t') ?? '';
    const stored = await server.call('GET', `/api/v1/clicks/${tid}`);
    expect(stored.body.sub2).toBe(emoji.repeat(300));
    expect(stored.body.sub1).toBe(`${'a'.repeat(511)}${emoji}`);
  });
});

describe('one visitor address, however it is written', () => {
  it('explain with the IPv4 address agrees with the clicks that arrived as IPv4-mapped IPv6 (a dual-stack listener), and so do the clicks', async () => {
    const { link, token } = await linkTo({
      destination_url: 'https://dup.example/?t={transaction_id}',
      duplicate_filter: { enabled: true, identifier: 'ip', window_hours: 24 },
    });
    // A server listening on "::" sees every IPv4 visitor as ::ffff:a.b.c.d (here through the proxy header).
    const first = await clickOn(server.url, token, {}, { 'x-forwarded-for': '::ffff:8.8.4.4' });
    expect(first.status).toBe(302);
    const again = await clickOn(server.url, token, {}, { 'x-forwarded-for': '::ffff:8.8.4.4' });
    expect(again.status, 'the same visitor again is a duplicate').toBe(200);

    const explained = await server.call('POST', `/api/v1/smart-links/${link.id}/explain`, { partner_id: partnerId, ip: '8.8.4.4' });
    expect(explained.status).toBe(200);
    expect(explained.body.candidates[0]).toMatchObject({ eligible: false, reason: 21 });
    expect(explained.body.decision.outcome).toBe('no_match');

    const written = await clickOn(server.url, token, {}, { 'x-forwarded-for': '8.8.4.4' });
    expect(written.status, 'the same visitor written as IPv4 is the same duplicate').toBe(200);
  });
});
