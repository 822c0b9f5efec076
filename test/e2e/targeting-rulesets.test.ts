import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/api-server.js';
import { clickOn, transactionIdIn } from '../support/clicks.js';
import { testClock } from '../support/clock.js';
import { create } from '../support/fixtures.js';

/**
 * Targeting rulesets as SPEC §6 writes them, through the real server: `day_parting` is a list of
 * `{days, start, end}` windows in the ruleset's `timezone` (or the visitor's zone from geo), beside
 * the `{timezone?, windows}` object the API also takes. Each visitor brings its own address in
 * X-Forwarded-For; the clock is Wednesday 2025-06-11 12:00 UTC.
 */

const clock = testClock('2025-06-11T12:00:00.000Z');
let server: TestServer;
let advertiserId: number;
let partnerId: number;
let fallbackId: number;
const BRITISH = '81.2.69.142'; // GB: Europe/London, 13:00 (BST) at the test clock

beforeAll(async () => {
  server = await startServer({ now: clock.now, env: { TRUST_PROXY: '127.0.0.1' } });
  advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Targeting' })).id;
  partnerId = (await create(server, '/api/v1/partners', { name: 'Partner' })).id;
  fallbackId = (await create(server, '/api/v1/offers', { advertiser_id: advertiserId, name: 'fallback', destination_url: 'https://fallback.example/?tid={transaction_id}' })).id;
});
afterAll(async () => server?.close());

let serial = 0;
/** An offer with `offerRuleset` first in a priority link (its entry with `entryRuleset`), the fallback second. */
async function targeted(offerRuleset: unknown, entryRuleset: unknown = null) {
  serial++;
  const offer = await create(server, '/api/v1/offers', {
    advertiser_id: advertiserId, name: `targeted ${serial}`, destination_url: `https://targeted${serial}.example/?tid={transaction_id}`, ruleset: offerRuleset,
  });
  const link = await create(server, '/api/v1/smart-links', {
    name: `link ${serial}`, routing: 'priority', entries: [{ offer_id: offer.id, routing_value: 1, ruleset: entryRuleset }, { offer_id: fallbackId, routing_value: 2 }],
  });
  const token = (await server.call('POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: partnerId })).body.token as string;
  /** The reason the targeted entry was skipped for a visitor from `ip`, or null when it took the click. */
  const skippedFor = async (ip: string): Promise<number | null> => {
    const answer = await clickOn(server.url, token, {}, { 'x-forwarded-for': ip });
    expect(answer.status).toBe(302);
    const click = (await server.call('GET', `/api/v1/clicks/${transactionIdIn(answer.location)}`)).body;
    return click.skipped.find((s: { entry_id: number }) => s.entry_id === link.entries[0].id)?.reason ?? null;
  };
  return { offer, link, skippedFor };
}

describe('day parting as SPEC §6 writes it: a list of windows in a timezone', () => {
  it('an offer takes day_parting as a list with the ruleset timezone, stores it as sent and routes by it (17 outside)', async () => {
    const open = { day_parting: [{ days: [3], start: '11:00', end: '13:00' }], timezone: 'UTC' };
    const inside = await targeted(open);
    expect(inside.offer.ruleset).toMatchObject(open);
    expect((await server.call('GET', `/api/v1/offers/${inside.offer.id}`)).body.ruleset).toMatchObject(open);
    expect(await inside.skippedFor(BRITISH)).toBeNull();
    const closed = await targeted({ day_parting: [{ days: [3], start: '13:00', end: '14:00' }], timezone: 'UTC' });
    expect(await closed.skippedFor(BRITISH)).toBe(17);
  });

  it("a list without a timezone is in the visitor's zone; an entry ruleset takes the list too", async () => {
    const visitorZone = await targeted({ rules: [{ dimension: 'country', op: 'include', values: ['gb'] }], day_parting: [{ days: [3], start: '13:00', end: '14:00' }] });
    expect(await visitorZone.skippedFor(BRITISH)).toBeNull(); // 13:00 in London
    expect(await visitorZone.skippedFor('203.0.113.9')).toBe(9); // no geo: the country include fails first
    const onEntry = await targeted(null, { day_parting: [{ days: [1, 2], start: '00:00', end: '24:00' }], timezone: 'Europe/Berlin' });
    expect(onEntry.link.entries[0].ruleset).toMatchObject({ day_parting: [{ days: [1, 2], start: '00:00', end: '24:00' }], timezone: 'Europe/Berlin' });
    expect(await onEntry.skippedFor(BRITISH)).toBe(17);
  });

  it('the object form {timezone?, windows} still works', async () => {
    const object = await targeted({ day_parting: { timezone: 'Asia/Tokyo', windows: [{ days: [3], start: '21:00', end: '22:00' }] } });
    expect(await object.skippedFor(BRITISH)).toBeNull(); // 21:00 in Tokyo
  });

  it('bad list windows and a timezone with nothing to apply to are 400 with precise paths', async () => {
    const offer = (ruleset: unknown) => ({ advertiser_id: advertiserId, name: 'bad', destination_url: 'https://bad.example/', ruleset });
    const details = async (ruleset: unknown) => {
      const res = await server.call('POST', '/api/v1/offers', offer(ruleset));
      expect(res.status).toBe(400);
      return res.body.error.details;
    };
    expect(await details({ day_parting: [{ days: [1], start: '9:00', end: '17:00' }] })).toEqual([
      { path: 'ruleset.day_parting[0].start', message: 'must be a time HH:MM from 00:00 to 24:00, e.g. 09:00' },
    ]);
    expect(await details({ day_parting: [{ days: [1], start: '09:00', end: '09:00' }] })).toEqual([
      { path: 'ruleset.day_parting[0]', message: 'start and end must differ (00:00–24:00 is the whole day)' },
    ]);
    expect(await details({ day_parting: { timezone: 'UTC', windows: [{ days: [1], start: '9:00', end: '17:00' }] } })).toEqual([
      { path: 'ruleset.day_parting.windows[0].start', message: 'must be a time HH:MM from 00:00 to 24:00, e.g. 09:00' },
    ]);
    expect(await details({ rules: [], timezone: 'UTC' })).toEqual([{ path: 'ruleset.timezone', message: 'is the zone of day_parting, and this ruleset has none' }]);
    expect(await details({ day_parting: { windows: [{ days: [1], start: '09:00', end: '17:00' }] }, timezone: 'UTC' })).toEqual([
      { path: 'ruleset.timezone', message: 'with day_parting as {timezone, windows}, give the zone inside it as day_parting.timezone' },
    ]);
    expect(await details({ day_parting: [{ days: [1], start: '09:00', end: '17:00' }], timezone: 'Mars/Olympus' })).toEqual([
      { path: 'ruleset.timezone', message: expect.any(String) },
    ]);
  });

  it('a mistake in the object form {timezone?, windows} is answered as before the list form: not also told day_parting "must be array"', async () => {
    const details = async (dayParting: unknown) => {
      const res = await server.call('POST', '/api/v1/offers', { advertiser_id: advertiserId, name: 'bad', destination_url: 'https://bad.example/', ruleset: { day_parting: dayParting } });
      expect(res.status).toBe(400);
      return res.body.error.details;
    };
    const window = { days: [1], start: '09:00', end: '17:00' };
    expect(await details({ timezone: 'UTC' })).toEqual([{ path: 'ruleset.day_parting.windows', message: "must have required property 'windows'" }]);
    expect(await details({ windows: [window], zone: 'UTC' })).toEqual([{ path: 'ruleset.day_parting.zone', message: 'is not a known field' }]);
    expect(await details({ timezone: 5, windows: [window] })).toEqual([{ path: 'ruleset.day_parting.timezone', message: 'must be string' }]);
    expect(await details({ windows: 'all week' })).toEqual([{ path: 'ruleset.day_parting.windows', message: 'must be array' }]);
    // The list form likewise is not told it "must be object".
    expect(await details([])).toEqual([{ path: 'ruleset.day_parting', message: 'must NOT have fewer than 1 items' }]);
    expect(await details(['9-5'])).toEqual([{ path: 'ruleset.day_parting[0]', message: 'must be object' }]);
  });
});
