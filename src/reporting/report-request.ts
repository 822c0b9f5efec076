import { CLICK_OUTCOMES, DEVICE_TYPES, NAMED_BROWSERS, OPERATING_SYSTEMS } from '../domain/click.js';
import { AppError, type ErrorDetail } from '../domain/errors.js';
import { ROLLUP_INT_KEYS } from '../domain/report.js';
import type { RollupFilter } from '../ports/report-reader.js';
import { ADMIN_ONLY_COLUMNS, COLUMNS, DIMENSIONS, DIMENSION_NAMES } from './dimensions.js';
import { resolveRange, type ReportRange } from './report-range.js';
import { isTimeZone } from './time-zone.js';

/** Who asks: partner keys are confined to their own traffic and see no revenue. */
export type Viewer = { admin: true } | { admin: false; partnerId: number };

/** A validated report request: every name in it comes from the closed lists in dimensions.ts. */
export interface ReportRequest {
  range: ReportRange;
  timeZone: string;
  groupBy: string[];
  filters: RollupFilter[];
  sort: string | undefined;
  descending: boolean;
  page: number;
  pageSize: number;
  viewer: Viewer;
}

export interface RawReportQuery {
  from?: string;
  to?: string;
  timezone?: string;
  group_by?: string;
  sort?: string;
  order?: 'asc' | 'desc';
  page?: number;
  page_size?: number;
  [key: string]: unknown;
}

const FILTER = /^filter\[(.*)\]$/;
const ID = /^[1-9]\d{0,14}$/;

/** Parses and checks a report query; throws one validation_failed listing every problem. */
export function parseReportRequest(query: RawReportQuery, viewer: Viewer, nowMs: number): ReportRequest {
  const problems: ErrorDetail[] = [];
  const timeZone = query.timezone ?? 'UTC';
  if (!isTimeZone(timeZone)) problems.push({ path: 'query.timezone', message: 'is not an IANA time zone name' });
  const groupBy = query.group_by ? query.group_by.split(',') : [];
  for (const name of groupBy) {
    if (!DIMENSION_NAMES.includes(name)) problems.push({ path: 'query.group_by', message: `unknown dimension "${name.slice(0, 40)}"; choose from ${DIMENSION_NAMES.join(', ')}` });
    else if (!viewer.admin && DIMENSIONS[name]?.adminOnly) problems.push({ path: 'query.group_by', message: `"${name}" is not available to partner keys` });
  }
  if (new Set(groupBy).size !== groupBy.length) problems.push({ path: 'query.group_by', message: 'names a dimension twice' });
  const filters = parseFilters(query, viewer, problems);
  const sort = query.sort;
  if (sort !== undefined && !sortable(groupBy, viewer).includes(sort)) {
    problems.push({ path: 'query.sort', message: 'must be a report column or a grouped dimension key' });
  }
  const range = isTimeZone(timeZone) ? resolveRange(query.from, query.to, timeZone, nowMs, problems) : undefined;
  if (problems.length > 0 || range === undefined) throw AppError.invalid(problems);
  return {
    range, timeZone, groupBy, filters, sort, descending: query.order === 'desc',
    page: query.page ?? 1, pageSize: query.page_size ?? 1000, viewer,
  };
}

function sortable(groupBy: string[], viewer: Viewer): string[] {
  const keys = groupBy.flatMap((name) => {
    const dimension = DIMENSIONS[name];
    return dimension ? [dimension.key, ...(dimension.entity ? [dimension.entity.nameKey] : [])] : [];
  });
  return [...keys, ...COLUMNS.filter((c) => viewer.admin || !ADMIN_ONLY_COLUMNS.has(c))];
}

const canonicalIn = (values: readonly string[]) => (raw: string) => values.find((v) => v.toLowerCase() === raw.toLowerCase()) ?? raw;
const CANONICAL: Readonly<Record<string, (raw: string) => string>> = {
  country: (raw) => raw.toUpperCase(),
  device_type: canonicalIn(DEVICE_TYPES),
  os: canonicalIn(OPERATING_SYSTEMS),
  browser: canonicalIn(NAMED_BROWSERS),
};

/**
 * Clicks store a country, device type, operating system and browser in one spelling (`US`, `iOS`,
 * `Chrome`), and targeting matches them case-insensitively; so does a filter, which would otherwise
 * find nothing for `us` or `ios`. A browser SPEC §6 does not name keeps the parser's spelling.
 * Other values (subs, source ids) are the partner's own and match exactly.
 */
function canonicalValue(column: string, raw: string): string {
  return Object.hasOwn(CANONICAL, column) ? (CANONICAL[column]?.(raw) ?? raw) : raw;
}

function parseFilters(query: RawReportQuery, viewer: Viewer, problems: ErrorDetail[]): RollupFilter[] {
  const filters: RollupFilter[] = [];
  for (const [param, raw] of Object.entries(query)) {
    const name = FILTER.exec(param)?.[1];
    if (name === undefined) continue;
    const path = `query.filter[${name.slice(0, 40)}]`;
    // Own keys only: `filter[constructor]` found Object.prototype's and failed with 500.
    const dimension = Object.hasOwn(DIMENSIONS, name) ? DIMENSIONS[name] : undefined;
    if (!dimension || dimension.column === 'bucket' || (!viewer.admin && dimension.adminOnly)) {
      problems.push({ path, message: 'is not a filterable dimension' });
      continue;
    }
    if (typeof raw !== 'string') {
      problems.push({ path, message: 'must be given once, as text' });
      continue;
    }
    if (dimension.column === 'outcome' && !(CLICK_OUTCOMES as readonly string[]).includes(raw)) {
      // A misspelt outcome would report nothing, as if there had been no such clicks.
      problems.push({ path, message: `must be one of: ${CLICK_OUTCOMES.join(', ')}` });
      continue;
    }
    if (ROLLUP_INT_KEYS.has(dimension.column)) {
      if (!ID.test(raw)) problems.push({ path, message: 'must be a positive integer' });
      else filters.push({ column: dimension.column, value: Number(raw) });
    } else {
      filters.push({ column: dimension.column, value: canonicalValue(dimension.column, raw) });
    }
  }
  // A partner's own traffic only, whatever it asked: asking for another partner simply finds nothing.
  if (!viewer.admin) filters.push({ column: 'partner_id', value: viewer.partnerId });
  return filters;
}
