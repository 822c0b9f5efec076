import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MACROS, allClear, compileTemplate, decide, renderTemplate, seededRng, type ClickContext } from '../../src/engine/index.js';
import { NOON_WEDNESDAY_MS, context, entry, offer, offerUrl, smartLink, snapshotOf } from './fixtures.js';

const facts = (ctx: ClickContext = context()) => ({ ctx, smartLinkId: 7, partnerId: 3, offerId: 5, offerUrlId: null, advertiserId: 2, isUnique: true });

describe('destination macros (SPEC §4.9)', () => {
  it('substitutes every known macro, URL-encoded, with affiliate_id as an alias of partner_id', () => {
    const url = `https://a.example/?${MACROS.map((m) => `${m}={${m}}`).join('&')}`;
    const ctx = context({ sub1: 'a&b=c', sub2: 'ü ö', source_id: 's/1', idfa: 'IDFA-1', gaid: null });
    const out = renderTemplate(compileTemplate(url), facts(ctx));
    const params = new URL(out).searchParams;
    expect(Object.fromEntries(params)).toMatchObject({
      transaction_id: ctx.transaction_id, offer_id: '5', offer_url_id: '', advertiser_id: '2', partner_id: '3', affiliate_id: '3',
      smart_link_id: '7', sub1: 'a&b=c', sub2: 'ü ö', sub3: '', source_id: 's/1', country: 'US', device_type: 'mobile', os: 'iOS',
      unique_click: '1', timestamp: String(NOON_WEDNESDAY_MS / 1000), date: '2026-03-04', idfa: 'IDFA-1', gaid: '',
    });
    expect(out).toContain('sub1=a%26b%3Dc');
  });

  it('leaves unknown macros as written and expands in one pass (a value that looks like a macro stays literal)', () => {
    const out = renderTemplate(compileTemplate('https://a.example/{unknown}/{SUB1}?x={sub1}'), facts(context({ sub1: '{offer_id}' })));
    expect(out).toBe('https://a.example/{unknown}/{SUB1}?x=%7Boffer_id%7D');
  });

  it('never lets CR or LF into the destination, whatever the visitor sends', () => {
    // Any character, with CR, LF and their look-alikes common: drawn from all of Unicode alone, a
    // value held a CR or LF a few times in 300, and the deep link (used instead of the template
    // whenever it was valid) hid those few, so a sub1 copied in raw went unnoticed 4 runs in 5.
    const visitorText = fc.string({ unit: fc.oneof(fc.constantFrom('\r', '\n', '\u2028', '\u0085', '%0D%0A'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })) });
    const snapshot = snapshotOf({
      offers: [offer(1, { destination_url: 'https://a.example/?s={sub1}&g={gaid}', deep_link: { enabled: true, allowed_hosts: ['*.example'] } })],
      smartLinks: [smartLink(1, [entry(1, 1)])],
    });
    fc.assert(
      fc.property(visitorText, visitorText, fc.option(visitorText, { nil: null }), (sub1, gaid, deepLink) => {
        const deep_link = deepLink === null ? null : `https://x.example/${deepLink}?s={sub1}`;
        const decision = decide(snapshot, 1, 1, context({ sub1, gaid, deep_link }), allClear, seededRng(1));
        expect(decision?.destination_url).not.toMatch(/[\r\n]/);
      }),
      { numRuns: 300 },
    );
  });

  it('encodes control characters that reach a template from storage', () => {
    expect(renderTemplate(compileTemplate('https://a.example/\r\nSet-Cookie: x'), facts())).not.toMatch(/[\r\n]/);
  });

  it('percent-encodes the fixed text outside printable ASCII as UTF-8, and leaves existing escapes alone', () => {
    const url = renderTemplate(compileTemplate('https://a.example/€/caf\u00e9?q=%20x y&s={sub1}\ud800'), facts(context({ sub1: 'é' })));
    expect(url).toBe('https://a.example/%E2%82%AC/caf%C3%A9?q=%20x%20y&s=%C3%A9%EF%BF%BD');
  });
});

describe('deep links', () => {
  const snapshot = (enabled: boolean) =>
    snapshotOf({
      offers: [offer(1, { deep_link: { enabled, allowed_hosts: ['shop.example.com', '*.brand.example'] } })],
      offerUrls: [offerUrl(11, 1)],
      smartLinks: [smartLink(1, [entry(1, 1)])],
    });
  const route = (url: string, enabled = true) => decide(snapshot(enabled), 1, 1, context({ deep_link: url }), allClear, seededRng(1));

  it.each(['https://shop.example.com/p/1', 'http://m.brand.example/x?y=1', 'https://a.b.brand.example/'])('%s is on the allow-list and used', (url) => {
    expect(route(url)).toMatchObject({ deep_link: 'used', destination_url: url });
  });

  it.each([
    'https://evil.example/', 'https://brand.example/', 'https://shop.example.com.evil.example/', 'javascript:alert(1)',
    'ftp://shop.example.com/', 'https://shop.example.com/\r\nSet-Cookie:x', 'not a url',
  ])('%s is rejected: the normal destination is used and the rejection noted', (url) => {
    const decision = route(url);
    expect(decision).toMatchObject({ deep_link: 'rejected', destination_url: `https://offer1.example/land?tid=${context().transaction_id}` });
    expect(decision?.trace.notes.join()).toMatch(/deep link rejected/);
  });

  it('an accepted deep link has its macros filled in, URL-encoded, like any destination', () => {
    const ctx = context({ deep_link: 'https://shop.example.com/p/42?tid={transaction_id}&aff={partner_id}&s1={sub1}&x={nope}', sub1: 'spring sale' });
    const decision = decide(snapshot(true), 1, 1, ctx, allClear, seededRng(1));
    expect(decision).toMatchObject({ deep_link: 'used', destination_url: `https://shop.example.com/p/42?tid=${ctx.transaction_id}&aff=1&s1=spring%20sale&x={nope}` });
  });

  it('no macro value can move a deep link off its allowed host', () => {
    fc.assert(
      fc.property(fc.string(), (sub1) => {
        const decision = decide(snapshot(true), 1, 1, context({ deep_link: 'https://{sub1}.brand.example/p?s={sub1}', sub1 }), allClear, seededRng(1));
        const destination = new URL(decision?.destination_url ?? '');
        expect(destination.hostname === 'offer1.example' || destination.hostname.endsWith('.brand.example')).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("a deep link's advertiser_id stays empty: the deep link is the partner's, and partners never learn the advertiser", () => {
    expect(route('https://shop.example.com/p?adv={advertiser_id}&o={offer_id}')).toMatchObject({ deep_link: 'used', destination_url: 'https://shop.example.com/p?adv=&o=1' });
  });

  it('a deep link longer than 8192 characters, as sent or once its macros are filled in, is rejected whole, never cut', () => {
    const normal = { deep_link: 'rejected', destination_url: `https://offer1.example/land?tid=${context().transaction_id}` };
    expect(route(`https://shop.example.com/p?ref=${'x'.repeat(8200)}`)).toMatchObject(normal);
    const repeated = `https://shop.example.com/?x=${'{sub1}'.repeat(1300)}`;
    expect(repeated.length).toBeLessThan(8192);
    expect(decide(snapshot(true), 1, 1, context({ deep_link: repeated, sub1: 'x'.repeat(512) }), allClear, seededRng(1))).toMatchObject(normal);
  });

  it('a deep link filled in to exactly 8192 characters is used; one character more, from its last macro, is refused', () => {
    const template = `https://shop.example.com/?p=${'a'.repeat(4000)}&x={sub1}`;
    const sized = (length: number) => context({ deep_link: template, sub1: 'x'.repeat(length - (template.length - '{sub1}'.length)) });
    expect(decide(snapshot(true), 1, 1, sized(8192), allClear, seededRng(1))).toMatchObject({ deep_link: 'used' });
    expect(decide(snapshot(true), 1, 1, sized(8193), allClear, seededRng(1))).toMatchObject({ deep_link: 'rejected' });
  });

  it('a deep link whose macros would fill it far past 8192 characters is refused at the limit, not after filling every one', () => {
    // A visitor controls both the deep link and the values its macros stand for: 1,360 copies of
    // {sub1} with a 512-character sub1 filled in whole came to millions of characters, built on the
    // click path for every such click before the length was checked.
    const ctx = context({ deep_link: `https://shop.example.com/?x=${'{sub1}'.repeat(1360)}` });
    let reads = 0;
    Object.defineProperty(ctx, 'sub1', { get: () => (reads++, '€'.repeat(512)) });
    expect(decide(snapshot(true), 1, 1, ctx, allClear, seededRng(1))).toMatchObject({ deep_link: 'rejected' });
    expect(reads).toBeLessThan(20);
  });

  it('an offer that does not allow deep links ignores them', () => {
    expect(route('https://shop.example.com/p/1', false)).toMatchObject({ deep_link: 'rejected' });
  });
});
