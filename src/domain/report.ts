/**
 * The `report_rollups` table (migration 0005, SPEC §11): sums of clicks and conversions per 15-minute
 * UTC bucket × every reportable dimension. Fifteen minutes because every time zone in use today is a
 * whole number of quarter hours from UTC (+5:45, +9:30, ...), so a local day or hour is always an exact
 * union of buckets. Absent values are stored as sentinels ('' for text, 0 for ids and reasons; no real
 * id or reason code is 0) because the unique key must treat two absent values as equal.
 */
export const ROLLUP_KEY_COLUMNS = [
  'bucket', 'smart_link_id', 'partner_id', 'entry_id', 'offer_id', 'offer_url_id', 'advertiser_id',
  'country', 'device_type', 'os', 'browser', 'sub1', 'sub2', 'sub3', 'sub4', 'sub5', 'source_id',
  'outcome', 'reason',
] as const;

export type RollupKeyColumn = (typeof ROLLUP_KEY_COLUMNS)[number];

/** Key columns holding integers (sentinel 0); the others hold text (sentinel ''). */
export const ROLLUP_INT_KEYS: ReadonlySet<RollupKeyColumn> = new Set([
  'smart_link_id', 'partner_id', 'entry_id', 'offer_id', 'offer_url_id', 'advertiser_id', 'reason',
]);

/**
 * Summed columns. `invalid_clicks` counts clicks whose outcome is `invalid` or `no_match` (nothing
 * could be routed); `conversions` and `events` count approved and pending base conversions and events
 * (rejected ones count nowhere), and the money columns sum both, in integer micros.
 */
export const ROLLUP_SUM_COLUMNS = [
  'clicks', 'unique_clicks', 'duplicate_clicks', 'invalid_clicks', 'conversions', 'events', 'revenue_micros', 'payout_micros',
] as const;

export type RollupSumColumn = (typeof ROLLUP_SUM_COLUMNS)[number];
export type RollupSums = Record<RollupSumColumn, number>;
export type RollupKey = Record<RollupKeyColumn, string | number>;
