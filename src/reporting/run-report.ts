import { ROLLUP_INT_KEYS, type RollupCube, type RollupDimension, type RollupKeyColumn, type RollupSums } from '../domain/report.js';
import type { ReportReader, RollupGroup } from '../ports/report-reader.js';
import { DIMENSIONS, type Dimension } from './dimensions.js';
import { addSums, columnsOf, emptySums, visibleColumns } from './metrics.js';
import type { ReportRequest } from './report-request.js';
import { readRollups } from './rollup-plan.js';
import { formatDate, formatHour, localTime } from './time-zone.js';

export type Cell = string | number | null;
export type ReportRow = Record<string, Cell>;

export interface Report {
  /** Output keys in order: dimension keys (with names), then the visible columns. */
  header: string[];
  rows: ReportRow[];
  totals: ReportRow;
  /** Rows before paging. */
  total: number;
  page: number;
  pageSize: number;
}

/** A stored key value with its sentinel turned back into null. */
const fromStored = (column: RollupKeyColumn, value: string | number | undefined): Cell =>
  value === undefined || value === '' || (ROLLUP_INT_KEYS.has(column) && Number(value) === 0) ? null : ROLLUP_INT_KEYS.has(column) ? Number(value) : value;

/**
 * Runs a report: the planner picks, for each part of the range, the smallest rollup cube holding the
 * requested dimensions; the database sums per requested key column (and per local day, or per bucket
 * when hour is asked for); here buckets become local hours and days — each is an exact union of
 * buckets —, groups that land on the same local key are merged, and ratios are computed.
 * `cubes` narrows the catalogue (tests read the same report from each cube).
 */
export async function runReport(reader: ReportReader, request: ReportRequest, cubes?: readonly RollupCube[]): Promise<Report> {
  const dimensions = request.groupBy.map((name) => [name, DIMENSIONS[name]] as [string, Dimension]);
  const time = request.groupBy.includes('hour') ? 'hour' : request.groupBy.includes('day') ? 'day' : 'none';
  const groupBy = [...new Set(dimensions.map(([, d]) => d.column))].filter((c): c is RollupDimension => c !== 'bucket');
  // An entry is named after its offer, read from the link's entries; an entry since removed from its
  // link has none there, so its rows also bring the offer its clicks reached (every cube holding
  // entries holds offers). Not an output key: rows still merge by the requested keys.
  const entryOffers = groupBy.includes('entry_id') && !groupBy.includes('offer_id');
  const sqlGroupBy: RollupDimension[] = entryOffers ? [...groupBy, 'offer_id'] : groupBy;
  const groups = await readRollups(reader, { range: request.range, timeZone: request.timeZone, time, groupBy: sqlGroupBy, filters: request.filters }, cubes);
  const merged = mergeGroups(groups, dimensions, request.timeZone);
  const names = await lookUpNames(reader, dimensions, [...merged.values()].map((m) => m.keys));
  await nameRemovedEntries(reader, names, groups);
  const visible = visibleColumns(request.viewer.admin);
  const header = dimensions.flatMap(([, d]) => [d.key, ...(d.entity ? [d.entity.nameKey] : [])]).concat(visible);
  const totals = emptySums();
  const rows = [...merged.values()].map(({ keys, sums }) => {
    addSums(totals, sums);
    const row: ReportRow = {};
    for (const [, d] of dimensions) {
      row[d.key] = keys[d.key] ?? null;
      if (d.entity) row[d.entity.nameKey] = names.get(d.entity.table)?.get(Number(keys[d.key])) ?? null;
    }
    return project(row, columnsOf(sums), visible);
  });
  // Ties on the sort column fall back to every key, so pages are stable from one request to the next.
  sortRows(rows, request.sort ? [request.sort, ...header] : header, request.descending);
  const start = (request.page - 1) * request.pageSize;
  return { header, rows: rows.slice(start, start + request.pageSize), totals: project({}, columnsOf(totals), visible), total: rows.length, page: request.page, pageSize: request.pageSize };
}

function project(row: ReportRow, all: Record<string, number>, visible: string[]): ReportRow {
  for (const column of visible) row[column] = all[column] ?? 0;
  return row;
}

function mergeGroups(groups: RollupGroup[], dimensions: [string, Dimension][], timeZone: string) {
  const localKeys = new Map<string, { day: string; hour: string }>();
  const local = (bucket: string) => {
    let found = localKeys.get(bucket);
    if (!found) {
      const time = localTime(Date.parse(bucket), timeZone);
      found = { day: formatDate(time), hour: formatHour(time) };
      localKeys.set(bucket, found);
    }
    return found;
  };
  const merged = new Map<string, { keys: Record<string, Cell>; sums: RollupSums }>();
  for (const group of groups) {
    const keys: Record<string, Cell> = {};
    for (const [name, d] of dimensions) {
      if (d.column !== 'bucket') keys[d.key] = fromStored(d.column, group.key[d.column]);
      else keys[d.key] = name === 'day' && group.period !== undefined ? group.period : local(String(group.key.bucket))[name === 'day' ? 'day' : 'hour'];
    }
    const id = JSON.stringify(Object.values(keys));
    const found = merged.get(id);
    if (found) addSums(found.sums, group.sums);
    else merged.set(id, { keys, sums: { ...group.sums } });
  }
  return merged;
}

async function lookUpNames(reader: ReportReader, dimensions: [string, Dimension][], keys: Record<string, Cell>[]) {
  const names = new Map<string, Map<number, string>>();
  for (const [, d] of dimensions) {
    if (!d.entity) continue;
    const ids = [...new Set(keys.map((k) => k[d.key]).filter((id): id is number => typeof id === 'number'))];
    names.set(d.entity.table, await reader.names(d.entity.table, ids));
  }
  return names;
}

/** Names entries no link holds any more after an offer their clicks reached (the highest id, if several). */
async function nameRemovedEntries(reader: ReportReader, names: Map<string, Map<number, string>>, groups: RollupGroup[]) {
  const entryNames = names.get('entries');
  if (entryNames === undefined) return;
  const offerOf = new Map<number, number>();
  for (const { key } of groups) {
    const entryId = Number(key.entry_id ?? 0);
    const offerId = Number(key.offer_id ?? 0);
    if (entryId !== 0 && offerId !== 0 && !entryNames.has(entryId)) offerOf.set(entryId, Math.max(offerOf.get(entryId) ?? 0, offerId));
  }
  if (offerOf.size === 0) return;
  const offerNames = await reader.names('offers', [...new Set(offerOf.values())]);
  for (const [entryId, offerId] of offerOf) {
    const name = offerNames.get(offerId);
    if (name !== undefined) entryNames.set(entryId, name);
  }
}

const compare = (a: Cell, b: Cell): number => {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : 1;
};

/**
 * Hour labels carry their UTC offset, so text order is not time order on the night summer time
 * ends: 02:00+01:00 comes after 02:00+02:00, and sorts before it as text.
 */
const compareHours = (a: Cell, b: Cell): number =>
  typeof a === 'string' && typeof b === 'string' ? Date.parse(a) - Date.parse(b) : compare(a, b);

/** Sorts by the keys in order, nulls first when ascending. */
function sortRows(rows: ReportRow[], keys: string[], descending: boolean): void {
  const sign = descending ? -1 : 1;
  rows.sort((a, b) => {
    for (const key of keys) {
      const order = (key === DIMENSIONS.hour?.key ? compareHours : compare)(a[key] ?? null, b[key] ?? null);
      if (order !== 0) return sign * order;
    }
    return 0;
  });
}
