import type { ErrorDetail } from '../domain/errors.js';
import { isDateTime } from '../domain/formats.js';
import { localTime, nextDate, startOfLocalDay } from './time-zone.js';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const QUARTER_HOUR_MS = 15 * 60_000;
/** Longest report range; a bound on the work one request may ask for. */
const MAX_RANGE_MS = 400 * 86_400_000;

export interface ReportRange {
  fromMs: number;
  toMs: number;
}

/**
 * Resolves `from`/`to`: a date `YYYY-MM-DD` is that local day in `timeZone` (`to` includes its whole
 * day); a date-time with an offset is that instant (`to` exclusive) and must fall on a quarter hour,
 * the granularity of the rollups. Without either: today in `timeZone`.
 */
export function resolveRange(from: string | undefined, to: string | undefined, timeZone: string, nowMs: number, problems: ErrorDetail[]): ReportRange | undefined {
  const today = localTime(nowMs, timeZone);
  const fromMs = from === undefined ? startOfLocalDay(today.year, today.month, today.day, timeZone) : bound(from, 'from', timeZone, problems);
  const toMs = to === undefined ? dayAfter([today.year, today.month, today.day], timeZone) : bound(to, 'to', timeZone, problems);
  if (fromMs === undefined || toMs === undefined) return undefined;
  if (toMs <= fromMs) problems.push(unorderedRange(from, to, today));
  else if (Math.min(toMs - fromMs, wallClockSpan(fromMs, toMs, timeZone)) > MAX_RANGE_MS) problems.push({ path: 'query.to', message: 'the range may span at most 400 days' });
  else return { fromMs, toMs };
  return undefined;
}

/** `to` not after `from`, naming the default that stood in for the bound left out. */
function unorderedRange(from: string | undefined, to: string | undefined, today: { year: number; month: number; day: number }): ErrorDetail {
  const date = [today.year, String(today.month).padStart(2, '0'), String(today.day).padStart(2, '0')].join('-');
  if (from === undefined) return { path: 'query.from', message: `is needed: without it the report starts today (${date}), after to` };
  if (to === undefined) return { path: 'query.to', message: `is needed: without it the report ends with today (${date}), before from` };
  return { path: 'query.to', message: 'must be after from' };
}

/**
 * The length of [fromMs, toMs) on the clocks of `timeZone`: 400 local days that hold one more end of
 * summer time than start of it last 400 days and one hour, and were refused as longer than 400 days.
 * A range within 400 days either way is accepted: 400 days of instants (from winter to summer time)
 * are 400 days and an hour on the clocks.
 */
const wallClockSpan = (fromMs: number, toMs: number, timeZone: string) =>
  toMs - fromMs + (localTime(toMs, timeZone).offsetMinutes - localTime(fromMs, timeZone).offsetMinutes) * 60_000;

const dayAfter = ([year, month, day]: [number, number, number], timeZone: string) => startOfLocalDay(...nextDate(year, month, day), timeZone);

function bound(value: string, name: 'from' | 'to', timeZone: string, problems: ErrorDetail[]): number | undefined {
  const date = DATE.exec(value);
  if (date) {
    const parts: [number, number, number] = [Number(date[1]), Number(date[2]), Number(date[3])];
    const check = new Date(Date.UTC(parts[0], parts[1] - 1, parts[2]));
    if (check.getUTCMonth() + 1 !== parts[1] || check.getUTCDate() !== parts[2]) {
      problems.push({ path: `query.${name}`, message: 'is not a calendar date' });
      return undefined;
    }
    return name === 'from' ? startOfLocalDay(...parts, timeZone) : dayAfter(parts, timeZone);
  }
  // Without an offset Date.parse would read the value in the server's zone, not `timezone`.
  const ms = isDateTime(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms) || ms % QUARTER_HOUR_MS !== 0) {
    problems.push({ path: `query.${name}`, message: 'must be a date YYYY-MM-DD or a date-time with offset on a quarter hour' });
    return undefined;
  }
  return ms;
}
