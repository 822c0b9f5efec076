import { GRAIN_MS, ROLLUP_CUBES, type Grain, type RollupCube, type RollupDimension } from '../domain/report.js';
import type { BucketRange, ReportReader, RollupFilter, RollupGroup, RollupQuery } from '../ports/report-reader.js';
import type { ReportRange } from './report-range.js';
import { formatDate, localTime, nextDate, startOfLocalDay } from './time-zone.js';

/**
 * How time is grouped: `day` sums each local day in the database (one row per day and key); `hour`
 * returns one row per bucket, which the caller labels with its local hour (and day); `none` sums the
 * whole range.
 */
export type TimeGrouping = 'none' | 'day' | 'hour';

export interface RollupNeeds {
  range: ReportRange;
  timeZone: string;
  time: TimeGrouping;
  groupBy: readonly RollupDimension[];
  filters: readonly RollupFilter[];
}

interface Piece {
  startMs: number;
  endMs: number;
  grain: Grain;
}

const iso = (ms: number) => new Date(ms).toISOString();
const GRAINS_COARSE_FIRST: Grain[] = ['day', 'hour', 'quarter'];
/** No zone changes its offset twice within this long, so equal offsets at both ends mean none between. */
const OFFSET_STRETCH_MS = 6 * 3_600_000;

/**
 * Plans a report over the rollup cubes: the range is cut at every period start (local day or hour),
 * each period into whole UTC days, then whole UTC hours, then quarter hours, and each piece is read
 * from the first cube in `cubes` (the catalogue, smallest first) whose buckets fit the piece and which
 * holds every grouped and filtered dimension — a partner key's forced partner filter included. Each
 * piece is an exact union of its cube's buckets and lies inside one period, so the sums of all the
 * queries, labelled by period or bucket, are exactly the sums over raw clicks and conversions.
 * Pieces of the same cube are merged into ranges: one query per cube used.
 */
export function planRollups(needs: RollupNeeds, cubes: readonly RollupCube[] = ROLLUP_CUBES): RollupQuery[] {
  const needed = new Set<RollupDimension>([...needs.groupBy, ...needs.filters.map((f) => f.column as RollupDimension)]);
  const covering = cubes.filter((cube) => [...needed].every((d) => cube.dimensions.includes(d)));
  const days = needs.time === 'day' ? localDays(needs.range, needs.timeZone) : undefined;
  const starts = days ? days.map((d) => d.startMs) : needs.time === 'hour' ? localHourStarts(needs.range, needs.timeZone) : [needs.range.fromMs];
  // Merged in milliseconds and written as bucket text once per range: a year by hour has ~10,000 pieces.
  const ranges = new Map<RollupCube, { fromMs: number; toMs: number }[]>();
  for (const piece of pieces(starts, needs.range.toMs)) {
    const cube = covering.find((c) => GRAIN_MS[c.grain] <= GRAIN_MS[piece.grain]);
    if (cube === undefined) throw new Error(`no rollup cube holds ${[...needed].join(', ')} at ${piece.grain} buckets`);
    const list = ranges.get(cube) ?? [];
    const last = list[list.length - 1];
    if (last !== undefined && last.toMs === piece.startMs) last.toMs = piece.endMs;
    else list.push({ fromMs: piece.startMs, toMs: piece.endMs });
    ranges.set(cube, list);
  }
  const periods = days?.map((d) => ({ startBucket: iso(d.startMs), label: d.label }));
  return cubes.filter((cube) => ranges.has(cube)).map((cube) => ({
    table: cube.table,
    ranges: (ranges.get(cube) ?? []).map((r): BucketRange => ({ fromBucket: iso(r.fromMs), toBucket: iso(r.toMs) })),
    groupBy: needs.time === 'hour' ? ['bucket', ...needs.groupBy] : [...needs.groupBy],
    filters: needs.filters,
    ...(periods ? { periods } : {}),
  }));
}

/** Runs each planned query and returns all their groups (merged by key by the caller). */
export async function readRollups(reader: ReportReader, needs: RollupNeeds, cubes?: readonly RollupCube[]): Promise<RollupGroup[]> {
  const groups: RollupGroup[] = [];
  // One push per group: `push(...rows)` passes every row as an argument, and past ~125,000 of them
  // (a week by sub1 holding partners' click ids) overflowed the call stack.
  for (const query of planRollups(needs, cubes)) for (const group of await reader.rollups(query)) groups.push(group);
  return groups;
}

/** Cuts [starts[0], endMs) at every start, and each period into the coarsest aligned pieces. */
function* pieces(starts: readonly number[], endMs: number): Generator<Piece> {
  for (const [i, periodStartMs] of starts.entries()) {
    const periodEndMs = starts[i + 1] ?? endMs;
    for (let startMs = periodStartMs; startMs < periodEndMs;) {
      // Range bounds are whole quarter hours (report-range.ts), so the quarter always fits.
      const grain = GRAINS_COARSE_FIRST.find((g) => startMs % GRAIN_MS[g] === 0 && startMs + GRAIN_MS[g] <= periodEndMs) ?? 'quarter';
      yield { startMs, endMs: startMs + GRAIN_MS[grain], grain };
      startMs += GRAIN_MS[grain];
    }
  }
}

/** The local days of a range: their starts and labels (the first may start mid-day). */
export function localDays(range: ReportRange, timeZone: string): { startMs: number; label: string }[] {
  const days: { startMs: number; label: string }[] = [];
  for (let startMs = range.fromMs; startMs < range.toMs;) {
    const local = localTime(startMs, timeZone);
    days.push({ startMs, label: formatDate(local) });
    const next = startOfLocalDay(...nextDate(local.year, local.month, local.day), timeZone);
    // A day that did not move on would loop here for ever, on the thread that answers clicks.
    if (next <= startMs) throw new Error(`local days of ${timeZone} do not advance after ${new Date(startMs).toISOString()}`);
    startMs = next;
  }
  return days;
}

/**
 * Every instant in the range where a new local hour begins (and the range start): the quarter hours
 * whose local-hour label differs from the previous quarter's. Whole UTC hours in a zone with a
 * whole-hour offset; :30 and :45 past in the others, so those are read from quarter buckets.
 */
function localHourStarts(range: ReportRange, timeZone: string): number[] {
  const starts: number[] = [];
  const offsetAt = (ms: number) => localTime(ms, timeZone).offsetMinutes * 60_000;
  let previous: number | undefined;
  // The label of a quarter changes where its local time is a whole hour, or where the offset changes.
  // Asking Intl for every quarter (4 calls an hour) took ~150 ms of the thread that answers clicks
  // for a year by hour; the offset is asked at the ends of every 6 hours instead, and per quarter
  // only in the stretches where it changed.
  let first = offsetAt(range.fromMs);
  for (let stretchMs = range.fromMs; stretchMs < range.toMs; stretchMs += OFFSET_STRETCH_MS) {
    const endMs = Math.min(stretchMs + OFFSET_STRETCH_MS, range.toMs);
    const next = offsetAt(endMs);
    const steady = first === next;
    for (let ms = stretchMs; ms < endMs; ms += GRAIN_MS.quarter) {
      const offset = steady ? first : offsetAt(ms);
      if (offset !== previous || (ms + offset) % GRAIN_MS.hour === 0) starts.push(ms);
      previous = offset;
    }
    first = next;
  }
  return starts;
}
