/** A cap period (SPEC §8). */
export type CapPeriod = 'daily' | 'weekly' | 'monthly' | 'global';

/** The keys of the periods an instant falls in, in one zone. */
export interface PeriodKeys {
  readonly daily: string;
  readonly weekly: string;
  readonly monthly: string;
  readonly global: string;
}

const MINUTE_MS = 60_000;
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', { timeZone, calendar: 'gregory', numberingSystem: 'latn', year: 'numeric', month: 'numeric', day: 'numeric' });
    } catch {
      // An unknown zone slipped past validation: count in UTC rather than fail the click.
      formatter = formatterFor('UTC');
    }
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The calendar date (year, month 1–12, day) of the instant on a wall clock in `timeZone`. */
export function localDate(timeMs: number, timeZone: string): { year: number; month: number; day: number } {
  let year = 0;
  let month = 0;
  let day = 0;
  for (const part of formatterFor(timeZone).formatToParts(timeMs)) {
    if (part.type === 'year') year = Number(part.value);
    else if (part.type === 'month') month = Number(part.value);
    else if (part.type === 'day') day = Number(part.value);
  }
  return { year, month, day };
}

function computeKeys(timeMs: number, timeZone: string): PeriodKeys {
  const { year, month, day } = localDate(timeMs, timeZone);
  // Weeks are pure calendar arithmetic on the local date (a UTC date has no DST), never instants
  // minus 24 h: the Monday of the week is the date minus (weekday + 6) mod 7 days.
  const date = Date.UTC(year, month - 1, day);
  const weekday = new Date(date).getUTCDay();
  const monday = new Date(date - ((weekday + 6) % 7) * 86_400_000);
  return {
    daily: `day-${year}-${pad(month)}-${pad(day)}`,
    weekly: `week-${monday.getUTCFullYear()}-${pad(monday.getUTCMonth() + 1)}-${pad(monday.getUTCDate())}`,
    monthly: `month-${year}-${pad(month)}`,
    global: 'global',
  };
}

// Offsets change only on minute boundaries, so the keys of one minute are computed once per zone:
// the click path asks for the same few zones many times a second, and Intl formatting is not free.
const cache = new Map<string, { minute: number; keys: PeriodKeys }>();

/**
 * The period keys of the instant `timeMs` in `timeZone`: the local calendar date of the instant
 * (so midnight and DST follow the zone's wall clock), its Monday-based week and its month.
 */
export function periodKeys(timeMs: number, timeZone: string): PeriodKeys {
  const minute = Math.floor(timeMs / MINUTE_MS);
  const cached = cache.get(timeZone);
  if (cached !== undefined && cached.minute === minute) return cached.keys;
  const keys = computeKeys(minute * MINUTE_MS, timeZone);
  cache.set(timeZone, { minute, keys });
  return keys;
}

/** The key of one period of the instant in `timeZone`. */
export function periodKey(period: CapPeriod, timeMs: number, timeZone: string): string {
  return periodKeys(timeMs, timeZone)[period];
}
