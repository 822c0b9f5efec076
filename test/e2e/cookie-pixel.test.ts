import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/api-server.js';
import { CookieJar, browserGet, type BrowserAnswer } from '../support/browser.js';
import { transactionIdIn } from '../support/clicks.js';
import { convertingOffer, countConversions, storedConversions, type ConvertingOffer } from '../support/conversions.js';
import { create } from '../support/fixtures.js';

/**
 * The cookie pixel (SPEC §10.2) driven like a browser with a host-scoped cookie jar. Two host names
 * (`127.0.0.1` and `localhost`) reach the same server, standing for two tracking domains.
 */

const HOST_A = '127.0.0.1';
const HOST_B = 'localhost';
const GIF_HEADER = 'GIF89a';

let server: TestServer;
let cookieOffer: ConvertingOffer;
let postbackOnly: ConvertingOffer;

beforeAll(async () => {
  server = await startServer();
  const advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Acme' })).id;
  const partnerId = (await create(server, '/api/v1/partners', { name: 'Traffic Co' })).id;
  cookieOffer = await convertingOffer(server, advertiserId, partnerId, {
    conversion_method: 'cookie',
    payout: { type: 'percent', value: 10 },
  });
  postbackOnly = await convertingOffer(server, advertiserId, partnerId);
});
afterAll(async () => server?.close());

/** A click on `host` in a browser with `jar`; returns the click's transaction id. */
async function clickAs(host: string, jar: CookieJar, offer: ConvertingOffer): Promise<string> {
  const answer = await browserGet(server.url, host, `/sl/${offer.token}`, jar);
  expect(answer.status).toBe(302);
  return transactionIdIn(String(answer.headers.location));
}

function expectGif(answer: BrowserAnswer): void {
  expect(answer.status).toBe(200);
  expect(answer.headers['content-type']).toBe('image/gif');
  expect(answer.headers['cache-control']).toBe('no-store');
  expect(answer.body.subarray(0, 6).toString('latin1')).toBe(GIF_HEADER);
  expect(answer.body.length).toBeLessThan(64);
}

describe('cookie pixel', () => {
  it('a pixel on the host that served the click converts it, with method cookie and the amount exact', async () => {
    const scrape = async () => (await fetch(`${server.url}/metrics`)).text();
    const counted = (text: string, status: string) =>
      Number(new RegExp(`^switchyard_conversions_total\\{method="cookie",status="${status}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    const before = await scrape();
    const jar = new CookieJar();
    const tid = await clickAs(HOST_A, jar, cookieOffer);
    const answer = await browserGet(server.url, HOST_A, `/pixel?offer_id=${cookieOffer.offerId}&amount=12.34&order_id=o-1`, jar);
    expectGif(answer);
    expect(storedConversions(server, tid)).toEqual([
      expect.objectContaining({ method: 'cookie', status: 'approved', amount_micros: 12_340_000, payout_micros: 1_234_000, order_id: 'o-1' }),
    ]);
    // The browser reloading the thank-you page converts nothing new.
    expectGif(await browserGet(server.url, HOST_A, `/pixel?offer_id=${cookieOffer.offerId}&amount=12.34&order_id=o-1`, jar));
    expect(storedConversions(server, tid)).toHaveLength(1);
    // /metrics counts pixel conversions by method cookie, the reload as a duplicate.
    const after = await scrape();
    expect([counted(after, 'approved') - counted(before, 'approved'), counted(after, 'duplicate') - counted(before, 'duplicate')]).toEqual([1, 1]);
  });

  it('a pixel that stores nothing is counted refused in /metrics, so an operator can see a pixel that never converts', async () => {
    const scrape = async () => (await fetch(`${server.url}/metrics`)).text();
    const refused = (text: string) => Number(/^switchyard_conversions_total\{method="cookie",status="refused"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    const before = await scrape();
    // Fired where the browser sends no offer cookie (another domain, or a visitor who never clicked).
    expectGif(await browserGet(server.url, HOST_B, `/pixel?offer_id=${cookieOffer.offerId}&amount=5`, new CookieJar()));
    // An advertiser's template that left the offer id unfilled.
    expectGif(await browserGet(server.url, HOST_A, '/pixel?offer_id={offer_id}&amount=5', new CookieJar()));
    expect(refused(await scrape()) - refused(before)).toBe(2);
  });

  it("the cookie lives as long as the offer's attribution window (SPEC §10.2), and is HttpOnly", async () => {
    const advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Window advertiser' })).id;
    const partnerId = (await create(server, '/api/v1/partners', { name: 'Window partner' })).id;
    for (const days of [1, 30]) {
      const offer = await convertingOffer(server, advertiserId, partnerId, { conversion_method: 'cookie', attribution_window_days: days });
      const answer = await browserGet(server.url, HOST_A, `/sl/${offer.token}`, new CookieJar());
      expect(answer.status).toBe(302);
      const [cookie] = answer.headers['set-cookie'] ?? [];
      const attributes = (cookie ?? '').split(';').map((a) => a.trim().toLowerCase());
      expect(attributes[0]).toMatch(new RegExp(`^sy_o${offer.offerId}=[0-9a-f]{32}$`));
      expect(attributes).toContain(`max-age=${days * 24 * 60 * 60}`);
      expect(attributes).toContain('httponly');
    }
  });

  /** The Max-Age (seconds) of the cookie a first click on a new cookie offer with `settings` sets. */
  async function cookieMaxAge(name: string, settings: Record<string, unknown>): Promise<number> {
    const advertiserId = (await create(server, '/api/v1/advertisers', { name: `${name} advertiser` })).id;
    const partnerId = (await create(server, '/api/v1/partners', { name: `${name} partner` })).id;
    const offer = await convertingOffer(server, advertiserId, partnerId, { conversion_method: 'cookie', ...settings });
    const answer = await browserGet(server.url, HOST_A, `/sl/${offer.token}`, new CookieJar());
    expect(answer.status).toBe(302);
    return Number(/; Max-Age=(\d+);/.exec(answer.headers['set-cookie']?.[0] ?? '')?.[1]);
  }

  it("the cookie outlives the duplicate filter's window when the filter identifies visitors by cookie (SPEC §9)", async () => {
    // The cookie is the only memory of a browser under the `cookie` identifier: once the browser
    // drops it (Max-Age), its next click is a new visitor. An offer paying for 1 day of attribution
    // but filtering duplicates over 48 hours let every browser back in as unique after 24 hours.
    const settings = { attribution_window_days: 1, duplicate_filter: { enabled: true, identifier: 'cookie', window_hours: 48 } };
    expect(await cookieMaxAge('Short window', settings)).toBe(48 * 60 * 60);
  });

  it('with block_already_converted by cookie, the cookie lasts as long as browsers allow: a converted browser never gets a fresh one', async () => {
    const settings = { attribution_window_days: 7, block_already_converted: true, duplicate_filter: { enabled: false, identifier: 'cookie', window_hours: 24 } };
    expect(await cookieMaxAge('Converted once', settings)).toBe(400 * 24 * 60 * 60);
  });

  it('when the filters know a visitor by something else than the cookie, it lasts the attribution window', async () => {
    const settings = { attribution_window_days: 1, block_already_converted: true, duplicate_filter: { enabled: true, identifier: 'ip', window_hours: 48 } };
    expect(await cookieMaxAge('By address', settings)).toBe(24 * 60 * 60);
  });

  it('a pixel on another host gets no cookie, converts nothing, and still answers the GIF', async () => {
    const jar = new CookieJar();
    const tid = await clickAs(HOST_A, jar, cookieOffer);
    expectGif(await browserGet(server.url, HOST_B, `/pixel?offer_id=${cookieOffer.offerId}&amount=5`, jar));
    expect(storedConversions(server, tid)).toEqual([]);
  });

  it('answers the GIF and stores nothing for bad input, unknown offers, forged cookies and postback-only offers', async () => {
    const jar = new CookieJar();
    await clickAs(HOST_A, jar, cookieOffer);
    const postbackTid = await clickAs(HOST_A, jar, postbackOnly);
    const before = countConversions(server);
    const paths = [
      '/pixel',
      '/pixel?offer_id=abc',
      `/pixel?offer_id=${cookieOffer.offerId}&amount=-3`,
      `/pixel?offer_id=${cookieOffer.offerId}&amount=1.23456`,
      `/pixel?offer_id=${cookieOffer.offerId}&event_id=${'x'.repeat(600)}`,
      '/pixel?offer_id=999999',
      // The offer converts by server postback only: its cookie must not convert through the pixel.
      `/pixel?offer_id=${postbackOnly.offerId}`,
    ];
    for (const path of paths) expectGif(await browserGet(server.url, HOST_A, path, jar));

    const forged = new CookieJar();
    forged.store(HOST_A, [`sy_o${cookieOffer.offerId}=0123456789abcdef0123456789abcdef`]);
    expectGif(await browserGet(server.url, HOST_A, `/pixel?offer_id=${cookieOffer.offerId}`, forged));
    expect(countConversions(server)).toBe(before);
    expect(storedConversions(server, postbackTid)).toEqual([]);
  });

  it('a HEAD request (a link checker, curl -I) gets the GIF answer and converts nothing', async () => {
    const jar = new CookieJar();
    const tid = await clickAs(HOST_A, jar, cookieOffer);
    const cookie = jar.header(HOST_A) ?? '';
    const res = await fetch(`${server.url}/pixel?offer_id=${cookieOffer.offerId}&amount=5`, { method: 'HEAD', headers: { cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/gif');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(storedConversions(server, tid)).toEqual([]);
  });

  it("an offer's pixel does not convert a click on another offer put in its cookie", async () => {
    const advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Other advertiser' })).id;
    const partnerId = (await create(server, '/api/v1/partners', { name: 'Other partner' })).id;
    const dearer = await convertingOffer(server, advertiserId, partnerId, { conversion_method: 'cookie', payout: { type: 'fixed', value: 50 } });
    const dearerTid = await clickAs(HOST_A, new CookieJar(), dearer);
    const forged = new CookieJar();
    forged.store(HOST_A, [`sy_o${cookieOffer.offerId}=${dearerTid}`]);
    expectGif(await browserGet(server.url, HOST_A, `/pixel?offer_id=${cookieOffer.offerId}`, forged));
    expect(storedConversions(server, dearerTid)).toEqual([]);
  });

  it('answers the GIF even when storage fails', async () => {
    const jar = new CookieJar();
    const tid = await clickAs(HOST_A, jar, cookieOffer);
    const writer = server.conversionWriter;
    const original = writer.writeConversion;
    writer.writeConversion = () => Promise.reject(new Error('disk on fire'));
    try {
      expectGif(await browserGet(server.url, HOST_A, `/pixel?offer_id=${cookieOffer.offerId}`, jar));
    } finally {
      writer.writeConversion = original;
    }
    expect(storedConversions(server, tid)).toEqual([]);
  });
});

describe('offer cookie of a link published over https, behind a TLS-terminating proxy', () => {
  // Switchyard speaks plain HTTP: an https tracking URL always reaches it through a proxy. Without
  // TRUST_PROXY (or with a proxy that sends no X-Forwarded-Proto) the request looks like http.
  let proxied: TestServer;
  beforeAll(async () => {
    proxied = await startServer({ env: { PUBLIC_URL: 'https://track.example.net' } });
  });
  afterAll(async () => proxied?.close());

  it('is Secure and SameSite=None, so the advertiser\'s pixel (a cross-site image) receives it; a link published over http keeps Lax', async () => {
    const advertiserId = (await create(proxied, '/api/v1/advertisers', { name: 'Acme' })).id;
    const partnerId = (await create(proxied, '/api/v1/partners', { name: 'Traffic Co' })).id;
    const httpsDomain = await create(proxied, '/api/v1/tracking-domains', { host: 'clicks.brand.example' });
    const httpDomain = await create(proxied, '/api/v1/tracking-domains', { host: 'plain.brand.example', scheme: 'http' });
    const cookieOfferOn = (link: Record<string, unknown>) => convertingOffer(proxied, advertiserId, partnerId, { conversion_method: 'cookie' }, link);
    const cookieOf = async (offer: ConvertingOffer) => {
      const answer = await browserGet(proxied.url, 'clicks.brand.example', `/sl/${offer.token}`, new CookieJar());
      expect(answer.status).toBe(302);
      return String(answer.headers['set-cookie']);
    };
    const onHttpsDomain = await cookieOfferOn({ tracking_domain_id: httpsDomain.id });
    const onPublicUrl = await cookieOfferOn({ tracking_domain_id: null });
    const onHttpDomain = await cookieOfferOn({ tracking_domain_id: httpDomain.id });
    expect(await cookieOf(onHttpsDomain)).toMatch(/; Secure; SameSite=None$/);
    expect(await cookieOf(onPublicUrl)).toMatch(/; Secure; SameSite=None$/);
    expect(await cookieOf(onHttpDomain)).toMatch(/; SameSite=Lax$/);
  });
});
