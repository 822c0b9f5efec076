import { afterEach, describe, expect, it } from 'vitest';
import { isTimeZone, localTime } from '../../src/reporting/time-zone.js';

const Real = Intl.DateTimeFormat;
afterEach(() => {
  Intl.DateTimeFormat = Real;
});

/** Counts the formatters created while `run` runs. */
function formattersMadeBy(run: () => void): number {
  let made = 0;
  Intl.DateTimeFormat = new Proxy(Real, {
    construct(target, args) {
      made++;
      return Reflect.construct(target, args) as object;
    },
  });
  try {
    run();
  } finally {
    Intl.DateTimeFormat = Real;
  }
  return made;
}

/** The `n`th of a name's spellings in upper and lower case. */
function spelling(name: string, n: number): string {
  let bit = 0;
  return [...name].map((c) => (/[a-z]/i.test(c) ? ((n >> bit++) & 1 ? c.toUpperCase() : c.toLowerCase()) : c)).join('');
}

describe('report time zones', () => {
  it('a zone named in many spellings of case (a partner key can send any) keeps one formatter, not one per spelling', () => {
    const zone = 'America/Argentina/Buenos_Aires';
    expect(isTimeZone(zone)).toBe(true);
    const made = formattersMadeBy(() => {
      for (let n = 0; n < 300; n++) expect(isTimeZone(spelling(zone, n))).toBe(true);
    });
    expect(made).toBeLessThanOrEqual(1);
  });

  it('any spelling of a zone reads the same local time; a name the platform refuses stays refused', () => {
    const at = Date.UTC(2026, 2, 7, 12, 0);
    expect(localTime(at, 'asia/kathmandu')).toEqual(localTime(at, 'Asia/Kathmandu'));
    expect(localTime(at, 'Asia/Kathmandu').offsetMinutes).toBe(345);
    expect(isTimeZone('Asia/Kathmandu ')).toBe(false);
    // U+212A KELVIN SIGN folds to k in Unicode, not in zone names.
    expect(isTimeZone('Europe/Kiev')).toBe(true);
    expect(isTimeZone('Europe/\u212Aiev')).toBe(false);
  });
});
