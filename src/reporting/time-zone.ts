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

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let found = formatters.get(timeZone);
  if (!found) {
    found = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
    });
    formatters.set(timeZone, found);
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

/** The instant local midnight starts `year-month-day` in `timeZone` (the day may start later on a DST day). */
export function startOfLocalDay(year: number, month: number, day: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day);
  // Two passes: the offset at the guess may differ from the offset at the answer across a change.
  let guess = wall - localTime(wall, timeZone).offsetMinutes * 60_000;
  guess = wall - localTime(guess, timeZone).offsetMinutes * 60_000;
  const local = localTime(guess, timeZone);
  // Midnight skipped by a DST jump: the day starts at the first instant that shows that date.
  if (local.day !== day) return guess + 3_600_000;
  return guess;
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
