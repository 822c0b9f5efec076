import { describe, expect, it } from 'vitest';
import type { Rule, Ruleset } from '../../src/domain/schemas/ruleset.js';
import fc from 'fast-check';
import { allClear, decide, networkContains, parseIp, parseNetwork, seededRng, type ClickContext } from '../../src/engine/index.js';
import { context, entry, offer, smartLink, snapshotOf } from './fixtures.js';

/** The reason an offer with `ruleset` rejects `ctx`, or null when it accepts. */
function verdict(ruleset: Ruleset, ctx: ClickContext = context()): number | null {
  const snapshot = snapshotOf({ offers: [offer(1, { ruleset })], smartLinks: [smartLink(1, [entry(1, 1)])] });
  const decision = decide(snapshot, 1, 1, ctx, allClear, seededRng(1));
  return decision?.outcome === 'routed' ? null : (decision?.skipped[0]?.reason ?? -1);
}
const rule = (dimension: Rule['dimension'], op: Rule['op'], ...values: string[]): Rule => ({ dimension, op, values });
const only = (...rules: Rule[]): Ruleset => ({ rules });
const device = (fields: Partial<ClickContext['device']>) => context({ device: { ...context().device, ...fields } });
const geo = (fields: Partial<ClickContext['geo']>) => context({ geo: { ...context().geo, ...fields } });

describe('targeting rules (SPEC §6)', () => {
  it('an empty ruleset accepts everything, also a visitor about whom nothing is known', () => {
    const nothing = context({ ip: null, device: { os: null, os_version: null, device_type: null, browser: null, brand: null, language: null }, geo: { country: null, region: null, city: null, time_zone: null } });
    expect(verdict({ rules: [] }, nothing)).toBeNull();
    expect(verdict({}, nothing)).toBeNull();
  });

  it.each([
    ['os', 4, { os: 'iOS' }, 'ios', 'Android'],
    ['device_type', 5, { device_type: 'mobile' }, 'MOBILE', 'desktop'],
    ['browser', 6, { browser: 'Samsung Internet' }, 'samsung internet', 'Chrome'],
    ['language', 8, { language: 'en' }, 'EN', 'de'],
    ['brand', 30, { brand: 'Apple' }, 'apple', 'Samsung'],
  ] as const)('%s: case-insensitive include/exclude, reason %i; unknown fails includes, passes excludes', (dimension, reason, known, match, other) => {
    const unknown = device({ [dimension]: null });
    expect(verdict(only(rule(dimension, 'include', match)), device(known))).toBeNull();
    expect(verdict(only(rule(dimension, 'include', other)), device(known))).toBe(reason);
    expect(verdict(only(rule(dimension, 'exclude', match)), device(known))).toBe(reason);
    expect(verdict(only(rule(dimension, 'exclude', other)), device(known))).toBeNull();
    expect(verdict(only(rule(dimension, 'include', match)), unknown)).toBe(reason);
    expect(verdict(only(rule(dimension, 'exclude', match)), unknown)).toBeNull();
  });

  it('OR within a dimension, AND across dimensions, and an exclude beats an include of the same value', () => {
    expect(verdict(only(rule('os', 'include', 'Android'), rule('os', 'include', 'iOS')))).toBeNull();
    expect(verdict(only(rule('os', 'include', 'iOS'), rule('country', 'include', 'DE')))).toBe(9);
    expect(verdict(only(rule('os', 'include', 'iOS', 'Android'), rule('os', 'exclude', 'iOS')))).toBe(4);
  });

  it('geo: country (9), region (10), city (11) with unknown values failing includes', () => {
    expect(verdict(only(rule('country', 'include', 'us')))).toBeNull();
    expect(verdict(only(rule('region', 'include', 'California')))).toBe(10);
    expect(verdict(only(rule('city', 'exclude', 'new york')))).toBe(11);
    expect(verdict(only(rule('region', 'include', 'New York')), geo({ region: null }))).toBe(10);
  });

  it('geo: a more specific include overrides a broader exclude (exclude US, include city New York)', () => {
    const ruleset = only(rule('country', 'exclude', 'US'), rule('city', 'include', 'New York'));
    expect(verdict(ruleset)).toBeNull();
    expect(verdict(ruleset, geo({ city: 'Los Angeles', region: 'California' }))).toBe(9);
    expect(verdict(only(rule('region', 'exclude', 'New York'), rule('city', 'include', 'New York')))).toBeNull();
    // A broader include does not override a more specific exclude.
    expect(verdict(only(rule('region', 'include', 'New York'), rule('city', 'exclude', 'New York')))).toBe(11);
  });

  it('os_version: inclusive min/max compared numerically, max at its own precision (7); unknown fails an include range', () => {
    const range = (op: Rule['op'], min?: string, max?: string): Ruleset => ({ rules: [{ dimension: 'os_version', op, ...(min ? { min } : {}), ...(max ? { max } : {}) }] });
    expect(verdict(range('include', '17'), device({ os_version: '17.2' }))).toBeNull();
    expect(verdict(range('include', '17.10'), device({ os_version: '17.2' }))).toBe(7);
    expect(verdict(range('include', undefined, '16.6'), device({ os_version: '16.6.0' }))).toBeNull();
    // max counts at its own precision: "up to 14" is every 14.x.
    expect(verdict(range('include', undefined, '14'), device({ os_version: '14.2' }))).toBeNull();
    expect(verdict(range('include', undefined, '14'), device({ os_version: '15.0' }))).toBe(7);
    expect(verdict(range('include', undefined, '16.6'), device({ os_version: '16.6.1' }))).toBeNull();
    expect(verdict(range('include', undefined, '16.6'), device({ os_version: '16.7' }))).toBe(7);
    expect(verdict(range('exclude', '10', '12'), device({ os_version: '12.5.1' }))).toBe(7);
    expect(verdict(range('exclude', '10', '12'), device({ os_version: '11' }))).toBe(7);
    expect(verdict(range('include', '10'), device({ os_version: null }))).toBe(7);
    expect(verdict(range('exclude', '10'), device({ os_version: null }))).toBeNull();
  });

  it('ip: CIDR lists for IPv4 and IPv6 (13), IPv4-mapped addresses match IPv4 networks', () => {
    expect(verdict(only(rule('ip', 'include', '203.0.113.0/24')))).toBeNull();
    expect(verdict(only(rule('ip', 'include', '198.51.100.0/24')))).toBe(13);
    expect(verdict(only(rule('ip', 'include', '203.0.113.0/24')), context({ ip: '::ffff:203.0.113.9' }))).toBeNull();
    // Mapped addresses and networks in hex or in full are the same IPv4 ones.
    expect(verdict(only(rule('ip', 'include', '203.0.113.0/24')), context({ ip: '::ffff:cb00:7109' }))).toBeNull();
    expect(verdict(only(rule('ip', 'include', '203.0.113.0/24')), context({ ip: '0:0:0:0:0:ffff:cb00:7109' }))).toBeNull();
    expect(verdict(only(rule('ip', 'include', '::ffff:cb00:7100/120')), context({ ip: '203.0.113.9' }))).toBeNull();
    expect(verdict(only(rule('ip', 'exclude', '::ffff:cb00:7100/120')), context({ ip: '203.0.113.9' }))).toBe(13);
    expect(verdict(only(rule('ip', 'include', '2001:db8::/32')), context({ ip: '2001:db8:1::5' }))).toBeNull();
    expect(verdict(only(rule('ip', 'exclude', '2001:db8::/32')), context({ ip: '2001:db8:1::5' }))).toBe(13);
    expect(verdict(only(rule('ip', 'include', '2001:db8::/32')), context({ ip: '2001:db9::1' }))).toBe(13);
    expect(verdict(only(rule('ip', 'include', '203.0.113.7')), context({ ip: null }))).toBe(13);
  });

  it('ip: a long CIDR list (an IP blocklist) matches exactly the addresses inside one of its networks', () => {
    // Networks of every prefix length, IPv4 and IPv6, against addresses near them: the verdict must
    // be the plain "is the address in any network" however the list is indexed.
    const octet = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom(127, 128, 192, 255));
    const group = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom(0x2001, 0x8000, 0xfe80, 0xffff));
    const v4 = fc.tuple(octet, octet, octet, octet).map((parts) => parts.join('.'));
    const v6 = fc.tuple(group, group, group, group).map(([a, b, c, d]) => `${a.toString(16)}:${b.toString(16)}::${c.toString(16)}:${d.toString(16)}`);
    const network = fc.oneof(
      fc.tuple(v4, fc.integer({ min: 0, max: 32 })).map(([ip, bits]) => `${ip}/${bits}`),
      fc.tuple(v6, fc.integer({ min: 0, max: 128 })).map(([ip, bits]) => `${ip}/${bits}`),
    );
    // Many addresses are a listed network's own address with its last part changed, so the deepest
    // prefixes are tried from both sides of their boundary.
    const near = (text: string) => {
      const base = text.split('/')[0] ?? '';
      const cut = base.lastIndexOf(base.includes(':') ? ':' : '.');
      return (base.includes(':') ? group : octet).map((last) => `${base.slice(0, cut + 1)}${base.includes(':') ? last.toString(16) : last}`);
    };
    const listAndAddress = fc.array(network, { minLength: 1, maxLength: 60 }).chain((values) =>
      fc.tuple(fc.constant(values), fc.oneof(v4, v6, fc.constantFrom(...values).chain(near))));
    fc.assert(
      fc.property(listAndAddress, fc.constantFrom('include' as const, 'exclude' as const), ([values, ip], op) => {
        const address = parseIp(ip);
        const inside = address !== null && values.some((text) => { const n = parseNetwork(text); return n !== null && networkContains(n, address); });
        const rejected = verdict(only({ dimension: 'ip', op, values }), context({ ip })) !== null;
        expect(rejected).toBe(op === 'include' ? !inside : inside);
      }),
      { numRuns: 1000 },
    );
  });

  it('is_bot (905), sub1–sub5 (101–105) and source_id (106)', () => {
    expect(verdict(only(rule('is_bot', 'include', 'false')), context({ is_bot: true }))).toBe(905);
    expect(verdict(only(rule('is_bot', 'exclude', 'true')), context({ is_bot: false }))).toBeNull();
    [1, 2, 3, 4, 5].forEach((n) => {
      const dimension = `sub${n}` as Rule['dimension'];
      expect(verdict(only(rule(dimension, 'include', 'Summer')), context({ [dimension]: 'summer' }))).toBeNull();
      expect(verdict(only(rule(dimension, 'include', 'summer')))).toBe(100 + n);
    });
    expect(verdict(only(rule('source_id', 'exclude', 'fraudy')), context({ source_id: 'FRAUDY' }))).toBe(106);
  });

  describe('day parting (17)', () => {
    // NOON_WEDNESDAY_MS is Wednesday 12:00 UTC = 13:00 in Berlin = 07:00 in New York.
    const hours = (start: string, end: string, days = [3], timezone?: string | null): Ruleset => ({
      day_parting: { ...(timezone !== undefined ? { timezone } : {}), windows: [{ days, start, end }] },
    });

    it('a fixed zone is applied: 13:00 in Berlin is inside 13:00–14:00 and outside 12:00–13:00', () => {
      expect(verdict(hours('13:00', '14:00', [3], 'Europe/Berlin'))).toBeNull();
      expect(verdict(hours('12:00', '13:00', [3], 'Europe/Berlin'))).toBe(17);
      expect(verdict(hours('13:00', '14:00', [2, 4], 'Europe/Berlin'))).toBe(17);
    });

    it('a window crossing midnight in the zone uses the local weekday', () => {
      // 23:30 UTC on Wednesday is 08:30 on Thursday in Tokyo.
      const late = context({ time_ms: Date.UTC(2026, 2, 4, 23, 30) });
      expect(verdict(hours('08:00', '09:00', [4], 'Asia/Tokyo'), late)).toBeNull();
      expect(verdict(hours('08:00', '09:00', [3], 'Asia/Tokyo'), late)).toBe(17);
    });

    it('a window whose end is before its start runs past midnight into the next day, Saturday into Sunday too', () => {
      const at = (day: number, hour: number, minute = 0) => context({ time_ms: Date.UTC(2026, 2, 1 + day, hour, minute) }); // 2026-03-01 is a Sunday
      const nights = hours('22:00', '06:00', [5, 6], 'UTC'); // Friday and Saturday nights
      expect(verdict(nights, at(5, 22))).toBeNull(); // Friday 22:00
      expect(verdict(nights, at(6, 5, 59))).toBeNull(); // Saturday 05:59, Friday's night
      expect(verdict(nights, at(0, 3))).toBeNull(); // Sunday 03:00, Saturday's night
      expect(verdict(nights, at(6, 6))).toBe(17); // Saturday 06:00: the end is exclusive
      expect(verdict(nights, at(5, 21, 59))).toBe(17);
      expect(verdict(nights, at(5, 3))).toBe(17); // Friday 03:00 is Thursday's night, not listed
      expect(verdict(nights, at(1, 3))).toBe(17); // Monday 03:00: Sunday night is not listed
    });

    it("without a fixed zone the visitor's zone is used; an unknown visitor zone fails", () => {
      expect(verdict(hours('07:00', '08:00'))).toBeNull(); // visitor in New York
      expect(verdict(hours('07:00', '08:00', [3], null), geo({ time_zone: null }))).toBe(17);
      expect(verdict(hours('00:00', '24:00', [0, 1, 2, 3, 4, 5, 6]), geo({ time_zone: 'Not/AZone' }))).toBe(17);
    });
  });
});
