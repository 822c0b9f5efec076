import { describe, expect, it } from 'vitest';
import { periodKey, periodKeys } from '../../src/live/state/index.js';

/**
 * Cap periods follow the offer's caps time zone (SPEC §8): a day is the zone's calendar date of
 * the instant, so days around a DST switch last 23 or 25 hours, weeks start on Monday and months
 * on the 1st, all on the local wall clock. These pin the boundaries to the minute.
 */

const at = (iso: string) => Date.parse(iso);

describe('period keys in America/New_York', () => {
  const zone = 'America/New_York';

  it('a day ends at local midnight (04:00 UTC in summer, 05:00 UTC in winter)', () => {
    expect(periodKey('daily', at('2025-06-11T03:59:59.999Z'), zone)).toBe('day-2025-06-10');
    expect(periodKey('daily', at('2025-06-11T04:00:00.000Z'), zone)).toBe('day-2025-06-11');
    expect(periodKey('daily', at('2025-01-15T04:59:59.999Z'), zone)).toBe('day-2025-01-14');
    expect(periodKey('daily', at('2025-01-15T05:00:00.000Z'), zone)).toBe('day-2025-01-15');
  });

  it('the spring-forward day lasts 23 hours: the next day starts at 04:00 UTC, not 24 h after 05:00 UTC', () => {
    // 2025-03-09 02:00 EST jumps to 03:00 EDT (07:00 UTC); both sides are the same local day.
    expect(periodKey('daily', at('2025-03-09T05:00:00.000Z'), zone)).toBe('day-2025-03-09');
    expect(periodKey('daily', at('2025-03-09T06:59:59.999Z'), zone)).toBe('day-2025-03-09');
    expect(periodKey('daily', at('2025-03-09T07:00:00.000Z'), zone)).toBe('day-2025-03-09');
    expect(periodKey('daily', at('2025-03-10T03:59:59.999Z'), zone)).toBe('day-2025-03-09');
    expect(periodKey('daily', at('2025-03-10T04:00:00.000Z'), zone)).toBe('day-2025-03-10');
    expect(periodKey('daily', at('2025-03-10T04:30:00.000Z'), zone)).toBe('day-2025-03-10');
  });

  it('the fall-back day lasts 25 hours: 23:30 EST on Nov 2 is still Nov 2', () => {
    expect(periodKey('daily', at('2025-11-02T03:59:59.999Z'), zone)).toBe('day-2025-11-01');
    expect(periodKey('daily', at('2025-11-02T04:00:00.000Z'), zone)).toBe('day-2025-11-02');
    expect(periodKey('daily', at('2025-11-03T04:30:00.000Z'), zone)).toBe('day-2025-11-02');
    expect(periodKey('daily', at('2025-11-03T05:00:00.000Z'), zone)).toBe('day-2025-11-03');
  });

  it('a week runs Monday to Sunday: Sunday night (the DST day) is last week, Monday 00:00 local is the new one', () => {
    expect(periodKey('weekly', at('2025-03-10T03:59:59.999Z'), zone)).toBe('week-2025-03-03');
    expect(periodKey('weekly', at('2025-03-10T04:00:00.000Z'), zone)).toBe('week-2025-03-10');
    expect(periodKey('weekly', at('2025-03-03T05:00:00.000Z'), zone)).toBe('week-2025-03-03');
  });

  it('a month starts on the local 1st', () => {
    expect(periodKey('monthly', at('2025-04-01T03:59:59.999Z'), zone)).toBe('month-2025-03');
    expect(periodKey('monthly', at('2025-04-01T04:00:00.000Z'), zone)).toBe('month-2025-04');
  });
});

describe('period keys in Europe/Berlin', () => {
  const zone = 'Europe/Berlin';

  it('the spring-forward Sunday (23 h) ends at 22:00 UTC, which also starts a new week', () => {
    expect(periodKey('daily', at('2025-03-29T22:59:59.999Z'), zone)).toBe('day-2025-03-29');
    expect(periodKey('daily', at('2025-03-29T23:00:00.000Z'), zone)).toBe('day-2025-03-30');
    // 02:00 CET → 03:00 CEST at 01:00 UTC.
    expect(periodKey('daily', at('2025-03-30T00:59:59.999Z'), zone)).toBe('day-2025-03-30');
    expect(periodKey('daily', at('2025-03-30T01:00:00.000Z'), zone)).toBe('day-2025-03-30');
    expect(periodKeys(at('2025-03-30T21:59:59.999Z'), zone)).toMatchObject({ daily: 'day-2025-03-30', weekly: 'week-2025-03-24' });
    expect(periodKeys(at('2025-03-30T22:00:00.000Z'), zone)).toMatchObject({ daily: 'day-2025-03-31', weekly: 'week-2025-03-31', monthly: 'month-2025-03' });
    expect(periodKey('monthly', at('2025-03-31T21:59:59.999Z'), zone)).toBe('month-2025-03');
    expect(periodKey('monthly', at('2025-03-31T22:00:00.000Z'), zone)).toBe('month-2025-04');
  });

  it('the fall-back Sunday (25 h) ends at 23:00 UTC', () => {
    expect(periodKey('daily', at('2025-10-25T21:59:59.999Z'), zone)).toBe('day-2025-10-25');
    expect(periodKey('daily', at('2025-10-25T22:00:00.000Z'), zone)).toBe('day-2025-10-26');
    expect(periodKeys(at('2025-10-26T22:30:00.000Z'), zone)).toMatchObject({ daily: 'day-2025-10-26', weekly: 'week-2025-10-20' });
    expect(periodKeys(at('2025-10-26T23:00:00.000Z'), zone)).toMatchObject({ daily: 'day-2025-10-27', weekly: 'week-2025-10-27' });
  });
});

describe('period keys in UTC', () => {
  it('weeks cross the year boundary from Monday to Sunday, and global is one period', () => {
    expect(periodKey('weekly', at('2024-12-31T12:00:00Z'), 'UTC')).toBe('week-2024-12-30');
    expect(periodKey('weekly', at('2025-01-05T23:59:59.999Z'), 'UTC')).toBe('week-2024-12-30');
    expect(periodKey('weekly', at('2025-01-06T00:00:00Z'), 'UTC')).toBe('week-2025-01-06');
    expect(periodKey('global', at('2001-01-01T00:00:00Z'), 'UTC')).toBe(periodKey('global', at('2031-01-01T00:00:00Z'), 'Asia/Kathmandu'));
  });

  it('a zone with a 45-minute offset switches day on its own quarter hour (Asia/Kathmandu, UTC+5:45)', () => {
    expect(periodKey('daily', at('2025-06-10T18:14:59.999Z'), 'Asia/Kathmandu')).toBe('day-2025-06-10');
    expect(periodKey('daily', at('2025-06-10T18:15:00.000Z'), 'Asia/Kathmandu')).toBe('day-2025-06-11');
  });
});
