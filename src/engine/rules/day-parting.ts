import type { DayParting } from '../../domain/schemas/ruleset.js';
import type { MatchInput } from '../match-input.js';
import { REASON } from '../reasons.js';
import type { RuleCheck } from './rule-check.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const DAY_MINUTES = 1440;
// Zone offsets change only at transitions, which fall on quarter hours: within one UTC quarter
// hour a zone's offset is fixed, so it is computed once per zone and quarter hour.
const QUARTER_HOUR_MS = 900_000;

// Creating an Intl formatter costs far more than using one, and using one costs microseconds,
// so both the formatter and the last offset are kept per zone. The memo is invisible to callers:
// the same inputs always give the same answer.
const formatters = new Map<string, Intl.DateTimeFormat | null>();
const offsets = new Map<string, { quarter: number; offsetMs: number }>();

function formatterFor(zone: string): Intl.DateTimeFormat | null {
  let formatter = formatters.get(zone);
  if (formatter === undefined) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric',
      });
    } catch {
      formatter = null;
    }
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** How far `zone`'s wall clock is ahead of UTC at `timeMs`; null for an unknown zone. */
function offsetMs(timeMs: number, zone: string): number | null {
  const quarter = Math.floor(timeMs / QUARTER_HOUR_MS);
  const cached = offsets.get(zone);
  if (cached?.quarter === quarter) return cached.offsetMs;
  const formatter = formatterFor(zone);
  if (formatter === null) return null;
  const part: Record<string, number> = {};
  for (const { type, value } of formatter.formatToParts(timeMs)) part[type] = Number(value);
  const wallMs = Date.UTC(part.year ?? 1970, (part.month ?? 1) - 1, part.day ?? 1, part.hour ?? 0, part.minute ?? 0);
  const offset = wallMs - Math.floor(timeMs / MINUTE_MS) * MINUTE_MS;
  offsets.set(zone, { quarter, offsetMs: offset });
  return offset;
}

/**
 * Minute of the week (0 = Sunday 00:00) at `timeMs` in `zone`; null for an unknown zone. A single
 * number rather than a {day, minute} object: this runs once per entry with day parting per decision.
 */
function weekMinute(timeMs: number, zone: string): number | null {
  const offset = offsetMs(timeMs, zone);
  if (offset === null) return null;
  const wall = timeMs + offset;
  const days = Math.floor(wall / DAY_MS);
  // 1970-01-01 was a Thursday (4).
  const day = (((days + 4) % 7) + 7) % 7;
  return day * DAY_MINUTES + Math.floor((wall - days * DAY_MS) / MINUTE_MS);
}

const toMinutes = (clock: string): number => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));

/**
 * Day parting (reason 17): the click must fall in one of the windows, `start` inclusive and `end`
 * exclusive, in the fixed zone or else the visitor's zone. A window whose end is not after its start
 * runs past midnight: 22:00–06:00 on Friday is open from Friday 22:00 to Saturday 06:00. An unknown
 * visitor zone is an unknown value and fails, as unknown values fail includes.
 */
export function compileDayParting(dayParting: DayParting | null | undefined): RuleCheck | null {
  if (!dayParting || dayParting.windows.length === 0) return null;
  // byDay[d] lists the [start, end) minute ranges open on weekday d, flattened to start, end pairs.
  const byDay: number[][] = Array.from({ length: 7 }, () => []);
  for (const window of dayParting.windows) {
    const start = toMinutes(window.start);
    const end = toMinutes(window.end);
    for (const day of window.days) {
      if (start < end) byDay[day]?.push(start, end);
      else {
        byDay[day]?.push(start, DAY_MINUTES);
        byDay[(day + 1) % 7]?.push(0, end);
      }
    }
  }
  const fixedZone = dayParting.timezone ?? null;
  return {
    dimension: 'day_parting',
    reason: REASON.DAY_PARTING,
    test(input: MatchInput) {
      const zone = fixedZone ?? input.timeZone;
      const local = zone === null ? null : weekMinute(input.timeMs, zone);
      if (local === null) return false;
      const ranges = byDay[Math.floor(local / DAY_MINUTES)] ?? [];
      const minute = local % DAY_MINUTES;
      for (let i = 0; i < ranges.length; i += 2) {
        if (minute >= (ranges[i] ?? 0) && minute < (ranges[i + 1] ?? 0)) return true;
      }
      return false;
    },
  };
}
