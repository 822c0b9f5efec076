/**
 * Local calendar arithmetic in an IANA time zone, done with Intl so daylight-saving changes are
 * handled by the platform's tz database rather than by fixed offsets.
 */

export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  /** Minutes east of UTC at that instant (e.g. 345 for +05:45). */
  offsetMinutes: number;
}

/**
 * Formatters by zone name, case folded: zone names are matched without regard to case, so keyed by
 * the name as sent, every spelling (`america/new_york`, `AMERICA/New_York`, …) of a report's
 * `timezone` kept a formatter of its own (~27 kB each) for the life of the process, and a partner
 * key could grow the server's memory without bound. Folded, the cache holds at most one per zone.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  // ASCII only, as zone names are matched: a Unicode fold (the Kelvin sign to k) would pass a name the platform refuses.
  const key = timeZone.replace(/[A-Z]/g, (c) => c.toLowerCase());
  let found = formatters.get(key);
  if (!found) {
    found = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
    });
    formatters.set(key, found);
  }
  return found;
}

/** Whether the platform knows `timeZone` as an IANA zone name. */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock time in `timeZone` at the instant `ms` (whole minutes). */
export function localTime(ms: number, timeZone: string): LocalTime {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(ms)) if (part.type !== 'literal') parts[part.type] = Number(part.value);
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0 } = parts;
  const minuteMs = Math.floor(ms / 60_000) * 60_000;
  return { year, month, day, hour, minute, offsetMinutes: (Date.UTC(year, month - 1, day, hour, minute) - minuteMs) / 60_000 };
}

/**
 * The instant `year-month-day` starts in `timeZone`: the first minute whose local date is that day or
 * a later one. Usually local midnight; later when a clock change skips midnight (a DST jump, or a
 * whole day: Samoa went from 29 to 31 December 2011, so the 30th starts, and ends, where the 31st
 * starts); earlier when midnight comes twice (Amman, October 2021: the day starts at the first).
 */
export function startOfLocalDay(year: number, month: number, day: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day);
  // Two passes: the offset at the guess may differ from the offset at the answer across a change.
  let guess = wall - localTime(wall, timeZone).offsetMinutes * 60_000;
  guess = wall - localTime(guess, timeZone).offsetMinutes * 60_000;
  const target = formatDate({ year, month, day });
  const dateAt = (ms: number) => formatDate(localTime(ms, timeZone));
  if (dateAt(guess) === target && dateAt(guess - 60_000) < target) return guess;
  // The clocks changed near midnight: find the first minute of the day by bisection. A day earlier
  // shows an earlier date and a day later this one or a later one, whatever the change.
  let before = guess - 86_400_000;
  let from = guess + 86_400_000;
  while (from - before > 60_000) {
    const middle = before + Math.floor((from - before) / 120_000) * 60_000;
    if (dateAt(middle) < target) before = middle;
    else from = middle;
  }
  return from;
}

/** The next local calendar date after `year-month-day`. */
export function nextDate(year: number, month: number, day: number): [number, number, number] {
  const next = new Date(Date.UTC(year, month - 1, day + 1));
  return [next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate()];
}

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0');

export function formatDate(local: Pick<LocalTime, 'year' | 'month' | 'day'>): string {
  return `${pad(local.year, 4)}-${pad(local.month)}-${pad(local.day)}`;
}

/** `YYYY-MM-DDTHH:00:00±hh:mm`: the local hour with its offset, so a repeated DST hour stays distinct. */
export function formatHour(local: LocalTime): string {
  const sign = local.offsetMinutes < 0 ? '-' : '+';
  const offset = `${sign}${pad(Math.trunc(Math.abs(local.offsetMinutes) / 60))}:${pad(Math.abs(local.offsetMinutes) % 60)}`;
  return `${formatDate(local)}T${pad(local.hour)}:00:00${offset}`;
}
