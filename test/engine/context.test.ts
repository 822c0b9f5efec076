import v8 from 'node:v8';
import vm from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createUserAgentParser, openContextBuilder, openGeoLookup, primaryLanguage, toVisitorGeo, type GeoLookup,
} from '../../src/context/index.js';

describe('geo lookup over the bundled DB-IP country database', () => {
  let geo: GeoLookup;
  beforeAll(async () => {
    geo = await openGeoLookup();
  });

  // Expected countries are what the bundled database says (DB-IP places 2001:4860:4860::8888 in CA).
  it.each([
    ['8.8.8.8', 'US'], ['81.2.69.142', 'GB'], ['5.9.0.1', 'DE'], ['::ffff:8.8.8.8', 'US'], ['::ffff:808:808', 'US'],
    ['2a00:1450:4001::1', 'DE'], ['2001:4860:4860::8888', 'CA'],
  ])('%s resolves to %s', (ip, country) => {
    expect(geo.lookup(ip).country).toBe(country);
  });

  it("gives a visitor the time zone of a country with one clock, and none where the country has several", () => {
    expect(geo.lookup('81.2.69.142')).toMatchObject({ country: 'GB', time_zone: 'Europe/London' });
    // Germany lists Berlin and Zurich, which keep the same clock.
    expect(geo.lookup('5.9.0.1')).toMatchObject({ country: 'DE', time_zone: 'Europe/Berlin' });
    expect(geo.lookup('8.8.8.8')).toMatchObject({ country: 'US', time_zone: null });
  });

  it.each(['10.1.2.3', '192.168.0.1', '127.0.0.1', '::1', 'fe80::1', 'fd00::1', '100.64.0.1', 'not-an-ip', ''])('%s (private or invalid) is unknown', (ip) => {
    expect(geo.lookup(ip)).toEqual({ country: null, region: null, city: null, time_zone: null });
  });

  it('reads region, city and time zone from city databases of either record shape', () => {
    expect(toVisitorGeo({ country: { iso_code: 'US' }, subdivisions: [{ names: { en: 'New York' } }], city: { names: { en: 'New York' } }, location: { time_zone: 'America/New_York' } }))
      .toEqual({ country: 'US', region: 'New York', city: 'New York', time_zone: 'America/New_York' });
    expect(toVisitorGeo({ country_code: 'de', state1: 'Berlin', city: 'Berlin', timezone: 'Europe/Berlin' }))
      .toEqual({ country: 'DE', region: 'Berlin', city: 'Berlin', time_zone: 'Europe/Berlin' });
  });
});

describe('user agents', () => {
  const parser = createUserAgentParser();
  it.each([
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1', { os: 'iOS', os_version: '17.2', device_type: 'mobile', browser: 'Safari', brand: 'Apple' }],
    ['Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1', { os: 'iOS', device_type: 'tablet' }],
    ['Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36', { os: 'Android', os_version: '14', device_type: 'mobile', browser: 'Samsung Internet', brand: 'Samsung' }],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0', { os: 'Windows', device_type: 'desktop', browser: 'Edge' }],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15', { os: 'macOS', device_type: 'desktop', browser: 'Safari' }],
    ['Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0', { os: 'Linux', device_type: 'desktop', browser: 'Firefox' }],
    // Every Linux distribution ua-parser names, in whatever spelling the agent used, is Linux on a desktop.
    ['Mozilla/5.0 (X11; Manjaro; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0', { os: 'Linux', device_type: 'desktop' }],
    ['Mozilla/5.0 (X11; Linux armv7l) AppleWebKit/537.36 (KHTML, like Gecko) Raspbian Chromium/78.0.3904.108 Chrome/78.0.3904.108 Safari/537.36', { os: 'Linux', device_type: 'desktop' }],
    ['Mozilla/5.0 (X11; Xubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0', { os: 'Linux', device_type: 'desktop' }],
    ['Mozilla/5.0 (X11; Linux x86_64; elementary OS 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', { os: 'Linux', device_type: 'desktop' }],
    ['Mozilla/5.0 (X11; U; Linux i686; en-US; rv:1.9.0.3) Gecko/2008092416 RedHat/3.0.3-1.el5 Firefox/3.0.3', { os: 'Linux', device_type: 'desktop' }],
    ['Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36', { os: 'ChromeOS', device_type: 'desktop', browser: 'Chrome' }],
    ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', { device_type: 'bot', is_bot: true }],
    // iPads asking for desktop sites send a Mac user agent; their browsers' iOS tokens give them away.
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Safari/604.1', { os: 'iOS', os_version: null, device_type: 'tablet', browser: 'Chrome' }],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/121.0 Safari/605.1.15', { os: 'iOS', device_type: 'tablet' }],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBDV/iPad13,1]', { os: 'iOS', device_type: 'tablet' }],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36', { os: 'macOS', os_version: '10.15.7', device_type: 'desktop', browser: 'Chrome' }],
  ])('%s', (agent, expected) => {
    expect(parser.parse(agent)).toMatchObject(expected);
  });

  it('does not keep long user agents: anyone with a tracking link could pin hundreds of MB with clicks of 60 KB agents', () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const cached = createUserAgentParser();
    gc();
    const before = v8.getHeapStatistics().used_heap_size;
    // Request headers may be 64 KiB; 2,000 distinct agents of 32 KB each are 64 MB if kept.
    for (let i = 0; i < 2000; i++) cached.parse(`Mozilla/5.0 (Windows NT 10.0; Win64; x64) ${i} `.padEnd(32_000, 'x'));
    gc();
    const grown = v8.getHeapStatistics().used_heap_size - before;
    expect(cached.parse(`Mozilla/5.0 (Windows NT 10.0; Win64; x64) 1 `.padEnd(32_000, 'x'))).toMatchObject({ os: 'Windows' });
    expect(grown).toBeLessThan(16 * 1024 * 1024);
  });

  it('caches user agents up to 1,024 characters, and none longer', () => {
    const cached = createUserAgentParser();
    const agent = (length: number) => 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) '.padEnd(length, 'x');
    // A cached agent answers the very result it stored; one parsed again answers a new one.
    expect(cached.parse(agent(1024))).toBe(cached.parse(agent(1024)));
    expect(cached.parse(agent(1025))).not.toBe(cached.parse(agent(1025)));
    expect(cached.parse(agent(1025))).toEqual(cached.parse(agent(1024)));
  });

  it('an absent user agent is all unknown, never a crash', () => {
    expect(parser.parse(null)).toEqual({ os: null, os_version: null, device_type: null, browser: null, brand: null, is_bot: false });
    expect(() => parser.parse('\u0000\uffff'.repeat(5000))).not.toThrow();
  });
});

describe('Accept-Language', () => {
  it.each([
    ['de-DE,de;q=0.9,en;q=0.8', 'de'], ['en;q=0.5, FR;q=0.9', 'fr'], ['*', null], ['', null], [null, null], ['zh-Hant-TW', 'zh'], ['x-klingon', null], ['en;q=0', null],
  ])('%s → %s', (header, language) => {
    expect(primaryLanguage(header)).toBe(language);
  });
});

describe('context building', () => {
  it('truncates query values to 512 characters and treats empty values as absent', async () => {
    const builder = await openContextBuilder();
    const ctx = builder.build({ transaction_id: 'a'.repeat(32), time_ms: 0, ip: '8.8.8.8', user_agent: null, accept_language: null, query: { sub1: 'x'.repeat(600), sub2: '' } });
    expect(ctx.sub1).toHaveLength(512);
    expect(ctx.sub2).toBeNull();
    expect(ctx.geo.country).toBe('US');
  });
});
