import type { ClickRow } from './click-row.js';
import type { NewConversionRow } from './conversion-row.js';

import {
  ROLLUP_CUBES, ROLLUP_INT_KEYS, ROLLUP_KEY_COLUMNS, ROLLUP_SUM_COLUMNS,
  type Grain, type RollupCube, type RollupDimension, type RollupSums,
} from '../../domain/report.js';

export { ROLLUP_CUBES, ROLLUP_INT_KEYS, ROLLUP_KEY_COLUMNS, ROLLUP_SUM_COLUMNS, type RollupCube, type RollupSums };

/** The dimension values of a click, as stored in rollup keys (sentinels for absent values). */
export type RollupDimensions = Record<RollupDimension, string | number>;

const STORED_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * The bucket of an ISO time: the start of its UTC quarter hour, hour or day, in the same ISO form as
 * stored times. Cut from the text exactly as `bucketSql` does (and without a Date per call: the
 * writer computes three buckets per click).
 */
export function bucketOf(time: string, grain: Grain = 'quarter'): string {
  const stored = STORED_TIME.test(time) ? time : new Date(time).toISOString();
  if (grain === 'day') return `${stored.slice(0, 10)}T00:00:00.000Z`;
  if (grain === 'hour') return `${stored.slice(0, 13)}:00:00.000Z`;
  const minute = stored.slice(14, 16);
  return `${stored.slice(0, 14)}${minute < '15' ? '00' : minute < '30' ? '15' : minute < '45' ? '30' : '45'}:00.000Z`;
}

/**
 * The same bucket computed by the database (rebuild, backfill) with functions SQLite and PostgreSQL
 * share. It relies on stored times having the fixed shape `YYYY-MM-DDTHH:MM:SS.sssZ`.
 */
export function bucketSql(column: string, grain: Grain = 'quarter'): string {
  if (grain === 'day') return `substr(${column}, 1, 10) || 'T00:00:00.000Z'`;
  if (grain === 'hour') return `substr(${column}, 1, 13) || ':00:00.000Z'`;
  const minute = `substr(${column}, 15, 2)`;
  return `substr(${column}, 1, 14) || case when ${minute} < '15' then '00' when ${minute} < '30' then '15' when ${minute} < '45' then '30' else '45' end || ':00.000Z'`;
}

/** The dimensions of a click, as stored in rollup keys (sentinels for absent values). */
export function clickDimensions(click: ClickRow): RollupDimensions {
  return {
    smart_link_id: click.smart_link_id,
    partner_id: click.partner_id,
    entry_id: click.entry_id ?? 0,
    offer_id: click.offer_id ?? 0,
    offer_url_id: click.offer_url_id ?? 0,
    advertiser_id: click.advertiser_id ?? 0,
    country: click.country ?? '',
    device_type: click.device_type ?? '',
    os: click.os ?? '',
    browser: click.browser ?? '',
    sub1: click.sub1 ?? '',
    sub2: click.sub2 ?? '',
    sub3: click.sub3 ?? '',
    sub4: click.sub4 ?? '',
    sub5: click.sub5 ?? '',
    source_id: click.source_id ?? '',
    outcome: click.outcome,
    reason: click.reason ?? 0,
  };
}

const NONE: RollupSums = {
  clicks: 0, unique_clicks: 0, duplicate_clicks: 0, invalid_clicks: 0, conversions: 0, events: 0, revenue_micros: 0, payout_micros: 0,
};

export const isInvalidOutcome = (outcome: string) => outcome === 'invalid' || outcome === 'no_match';

/** What one click adds to its bucket. */
export function clickSums(click: ClickRow): RollupSums {
  const unique = Number(click.is_unique) === 1;
  return { ...NONE, clicks: 1, unique_clicks: unique ? 1 : 0, duplicate_clicks: unique ? 0 : 1, invalid_clicks: isInvalidOutcome(click.outcome) ? 1 : 0 };
}

/** What one conversion adds (to its own time's bucket, under its click's dimensions); null when it counts nowhere. */
export function conversionSums(conversion: NewConversionRow): RollupSums | null {
  if (conversion.status !== 'approved' && conversion.status !== 'pending') return null;
  const base = conversion.event_key === '';
  return {
    ...NONE,
    conversions: base ? 1 : 0,
    events: base ? 0 : 1,
    revenue_micros: Number(conversion.revenue_micros),
    payout_micros: Number(conversion.payout_micros),
  };
}

/** A cube's key columns in primary-key order: its leading dimension if any, the bucket, then its dimensions. */
export const cubeKeyColumns = (cube: RollupCube): readonly string[] =>
  cube.leading ? [cube.leading, 'bucket', ...cube.dimensions.filter((d) => d !== cube.leading)] : ['bucket', ...cube.dimensions];

const sumList = ROLLUP_SUM_COLUMNS.join(', ');

/**
 * The upsert one click or conversion runs against one cube, positional parameters in key then sum
 * column order. Table and column names come from the cube catalogue, never from input.
 */
export function cubeUpsertSql(cube: RollupCube): string {
  const keys = cubeKeyColumns(cube);
  const add = ROLLUP_SUM_COLUMNS.map((c) => `${c} = ${cube.table}.${c} + excluded.${c}`).join(', ');
  return `insert into ${cube.table} (${keys.join(', ')}, ${sumList})
  values (${[...keys, ...ROLLUP_SUM_COLUMNS].map(() => '?').join(', ')})
  on conflict (${keys.join(', ')}) do update set ${add}`;
}

/** `create table` of a cube, rows clustered by its key where the database can. */
export function cubeCreateSql(cube: RollupCube, bigint: string, clusteredTableSuffix: string): string {
  const keys = cubeKeyColumns(cube).map((c) => `${c} ${c === 'bucket' || !ROLLUP_INT_KEYS.has(c as RollupDimension) ? 'text' : 'integer'} not null`);
  return `create table ${cube.table} (
    ${keys.join(',\n    ')},
    ${ROLLUP_SUM_COLUMNS.map((c) => `${c} ${c.endsWith('_micros') ? bigint : 'integer'} not null`).join(',\n    ')},
    primary key (${cubeKeyColumns(cube).join(', ')})
  )${clusteredTableSuffix}`;
}

/** A cube's key, in key order, as SQL expressions over the stored click `c.` (rebuild), sentinels included. */
function clickKeySql(cube: RollupCube, timeColumn: string): string {
  return cubeKeyColumns(cube).map((column) => {
    if (column === 'bucket') return bucketSql(timeColumn, cube.grain);
    if (column === 'smart_link_id' || column === 'partner_id' || column === 'outcome') return `c.${column}`;
    return `coalesce(c.${column}, ${ROLLUP_INT_KEYS.has(column as RollupDimension) ? '0' : "''"})`;
  }).join(', ');
}

/**
 * Recomputes one cube from raw clicks and conversions; run in one transaction. A conversion whose
 * click is not stored is not reported (the writer skips it the same way). `where true` keeps SQLite
 * from reading `on conflict` as part of the select.
 */
export function cubeRebuildSql(cube: RollupCube): string[] {
  const keyList = cubeKeyColumns(cube).join(', ');
  const groupAll = cubeKeyColumns(cube).map((_c, i) => String(i + 1)).join(', ');
  const add = ROLLUP_SUM_COLUMNS.map((c) => `${c} = ${cube.table}.${c} + excluded.${c}`).join(', ');
  return [
    `delete from ${cube.table}`,
    `insert into ${cube.table} (${keyList}, ${sumList})
   select ${clickKeySql(cube, 'c.time')}, count(*), sum(c.is_unique), sum(1 - c.is_unique),
     sum(case when c.outcome in ('invalid', 'no_match') then 1 else 0 end), 0, 0, 0, 0
   from clicks c where true group by ${groupAll}`,
    `insert into ${cube.table} (${keyList}, ${sumList})
   select ${clickKeySql(cube, 'v.time')}, 0, 0, 0, 0,
     sum(case when v.event_key = '' then 1 else 0 end), sum(case when v.event_key <> '' then 1 else 0 end),
     sum(v.revenue_micros * 1.0), sum(v.payout_micros * 1.0)
   from conversions v join clicks c on c.transaction_id = v.transaction_id
   where v.status in ('approved', 'pending') group by ${groupAll}
   on conflict (${keyList}) do update set ${add}`,
  ];
}

/** The quarter-hour cube over every dimension: `report_rollups`, created by migration 0005. */
export const FINE_CUBE = ROLLUP_CUBES.find((cube) => cube.table === 'report_rollups') as RollupCube;

/** Recomputes every cube from raw clicks and conversions (`npm run rebuild-aggregates`). */
export const ROLLUP_REBUILD_SQL: readonly string[] = ROLLUP_CUBES.flatMap(cubeRebuildSql);
