import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/api-server.js';
import { clickOn } from '../support/clicks.js';
import { create } from '../support/fixtures.js';

/**
 * SPEC §3: configuration changes reach the click path within 1 second. Rebuilds run one at a time,
 * so a change committed while another change's rebuild re-reads history (a caps_timezone recount,
 * a longer duplicate window) waits for that re-read. Under click load every turn of the event loop
 * costs the clicks served in it; here each turn costs 2 ms, as a steady stream of clicks would.
 */
let server: TestServer;
let busy: NodeJS.Timeout | undefined;
beforeAll(async () => {
  server = await startServer({ env: { POSTBACK_CONCURRENCY: '0' } });
});
afterEach(() => clearInterval(busy));
afterAll(async () => server.close());

function loadEveryTurn(ms: number): void {
  busy = setInterval(() => {
    const until = performance.now() + ms;
    while (performance.now() < until);
  }, 1);
}

async function network(name: string) {
  const advertiser = await create(server, '/api/v1/advertisers', { name });
  const offer = await create(server, '/api/v1/offers', { advertiser_id: advertiser.id, name: 'routed', destination_url: 'https://old.example/' });
  const other = await create(server, '/api/v1/offers', { advertiser_id: advertiser.id, name: 'other', destination_url: 'https://other.example/' });
  const partner = await create(server, '/api/v1/partners', { name });
  const link = await create(server, '/api/v1/smart-links', { name, entries: [{ offer_id: offer.id }] });
  const token = (await server.call('POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: partner.id })).body.token as string;
  return { offer, other, token };
}

describe("a history re-read for one offer's change does not hold other changes off the click path", () => {
  for (const [what, change] of [
    ['a caps_timezone change', { caps_timezone: 'Asia/Tokyo' }],
    ['a duplicate window grown to 30 days', { duplicate_filter: { enabled: true, identifier: 'ip', window_hours: 720 } }],
  ] as const) {
    it(`a destination change sent during ${what} of another offer reaches clicks within 1 s`, async () => {
      const { offer, other, token } = await network(what);
      loadEveryTurn(2);
      const slow = server.call('PATCH', `/api/v1/offers/${other.id}`, change);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const started = Date.now();
      const patched = await server.call('PATCH', `/api/v1/offers/${offer.id}`, { destination_url: 'https://new.example/' });
      const elapsed = Date.now() - started;
      expect(patched.status).toBe(200);
      expect((await clickOn(server.url, token)).location).toBe('https://new.example/');
      expect((await slow).status).toBe(200);
      expect(elapsed, `the destination change was answered (and in force) after ${elapsed} ms`).toBeLessThan(1000);
    });
  }
});
