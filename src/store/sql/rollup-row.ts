import type { ClickRow } from './click-row.js';
import type { NewConversionRow } from './conversion-row.js';

import {
  ROLLUP_INT_KEYS, ROLLUP_KEY_COLUMNS, ROLLUP_SUM_COLUMNS, type RollupKey, type RollupSums,
} from '../../domain/report.js';

export { ROLLUP_INT_KEYS, ROLLUP_KEY_COLUMNS, ROLLUP_SUM_COLUMNS, type RollupKey, type RollupSums };

const QUARTER_HOUR_MS = 15 * 60_000;

/** The bucket of an ISO time: the start of its UTC quarter hour, in the same ISO form as stored times. */
export function bucketOf(time: string): string {
  return new Date(Math.floor(Date.parse(time) / QUARTER_HOUR_MS) * QUARTER_HOUR_MS).toISOString();
}

/**
 * The same bucket computed by the database (rebuild, backfill) with functions SQLite and PostgreSQL
 * share. It relies on stored times having the fixed shape `YYYY-MM-DDTHH:MM:SS.sssZ`.
 */
export function bucketSql(column: string): string {
  const minute = `substr(${column}, 15, 2)`;
  return `substr(${column}, 1, 14) || case when ${minute} < '15' then '00' when ${minute} < '30' then '15' when ${minute} < '45' then '30' else '45' end || ':00.000Z'`;
}

/** The dimensions of a click, as stored in the rollup key (sentinels for absent values). */
export function clickKey(click: ClickRow, bucket: string): RollupKey {
  return {
    bucket,
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

const keyList = ROLLUP_KEY_COLUMNS.join(', ');
const sumList = ROLLUP_SUM_COLUMNS.join(', ');
const addExcluded = ROLLUP_SUM_COLUMNS.map((c) => `${c} = report_rollups.${c} + excluded.${c}`).join(', ');

/** The upsert one click or conversion runs, positional parameters in key then sum column order. */
export const ROLLUP_UPSERT_SQL = `insert into report_rollups (${keyList}, ${sumList})
  values (${[...ROLLUP_KEY_COLUMNS, ...ROLLUP_SUM_COLUMNS].map(() => '?').join(', ')})
  on conflict (${keyList}) do update set ${addExcluded}`;

/** The dimensions of a stored click as SQL expressions over `c.` (rebuild), sentinels included. */
function clickKeySql(bucketColumn: string): string {
  return ROLLUP_KEY_COLUMNS.map((column) => {
    if (column === 'bucket') return bucketSql(bucketColumn);
    if (column === 'smart_link_id' || column === 'partner_id' || column === 'outcome') return `c.${column}`;
    return `coalesce(c.${column}, ${ROLLUP_INT_KEYS.has(column) ? '0' : "''"})`;
  }).join(', ');
}

const groupAll = ROLLUP_KEY_COLUMNS.map((_c, i) => String(i + 1)).join(', ');

/**
 * Recomputes every rollup from raw clicks and conversions; run in one transaction. A conversion whose
 * click is not stored is not reported (the writer skips it the same way). `where true` keeps SQLite
 * from reading `on conflict` as part of the select.
 */
export const ROLLUP_REBUILD_SQL = [
  'delete from report_rollups',
  `insert into report_rollups (${keyList}, ${sumList})
   select ${clickKeySql('c.time')}, count(*), sum(c.is_unique), sum(1 - c.is_unique),
     sum(case when c.outcome in ('invalid', 'no_match') then 1 else 0 end), 0, 0, 0, 0
   from clicks c where true group by ${groupAll}`,
  `insert into report_rollups (${keyList}, ${sumList})
   select ${clickKeySql('v.time')}, 0, 0, 0, 0,
     sum(case when v.event_key = '' then 1 else 0 end), sum(case when v.event_key <> '' then 1 else 0 end),
     sum(v.revenue_micros), sum(v.payout_micros)
   from conversions v join clicks c on c.transaction_id = v.transaction_id
   where v.status in ('approved', 'pending') group by ${groupAll}
   on conflict (${keyList}) do update set ${addExcluded}`,
];
