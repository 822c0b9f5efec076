import { GRAIN_MS, ROLLUP_CUBES, type Grain, type RollupCube, type RollupDimension } from '../domain/report.js';
import type { BucketRange, ReportReader, RollupFilter, RollupGroup, RollupQuery } from '../ports/report-reader.js';
import type { ReportRange } from './report-range.js';
import { formatDate, formatHour, localTime, nextDate, startOfLocalDay } from './time-zone.js';

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
  const ranges = new Map<RollupCube, BucketRange[]>();
  for (const piece of pieces(starts, needs.range.toMs)) {
    const cube = covering.find((c) => GRAIN_MS[c.grain] <= GRAIN_MS[piece.grain]);
    if (cube === undefined) throw new Error(`no rollup cube holds ${[...needed].join(', ')} at ${piece.grain} buckets`);
    const list = ranges.get(cube) ?? [];
    const last = list[list.length - 1];
    if (last !== undefined && last.toBucket === iso(piece.startMs)) last.toBucket = iso(piece.endMs);
    else list.push({ fromBucket: iso(piece.startMs), toBucket: iso(piece.endMs) });
    ranges.set(cube, list);
  }
  const periods = days?.map((d) => ({ startBucket: iso(d.startMs), label: d.label }));
  return cubes.filter((cube) => ranges.has(cube)).map((cube) => ({
    table: cube.table,
    ranges: ranges.get(cube) ?? [],
    groupBy: needs.time === 'hour' ? ['bucket', ...needs.groupBy] : [...needs.groupBy],
    filters: needs.filters,
    ...(periods ? { periods } : {}),
  }));
}

/** Runs each planned query and returns all their groups (merged by key by the caller). */
export async function readRollups(reader: ReportReader, needs: RollupNeeds, cubes?: readonly RollupCube[]): Promise<RollupGroup[]> {
  const groups: RollupGroup[] = [];
  for (const query of planRollups(needs, cubes)) groups.push(...(await reader.rollups(query)));
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
    startMs = startOfLocalDay(...nextDate(local.year, local.month, local.day), timeZone);
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
  let previous = '';
  for (let ms = range.fromMs; ms < range.toMs; ms += GRAIN_MS.quarter) {
    const label = formatHour(localTime(ms, timeZone));
    if (label !== previous) starts.push(ms);
    previous = label;
  }
  return starts;
}
