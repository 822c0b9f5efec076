/**
 * The report rollups (SPEC §11): sums of clicks and conversions per UTC time bucket × a set of
 * reportable dimensions, one table ("cube") per dimension set and bucket size. Absent values are
 * stored as sentinels ('' for text, 0 for ids and reasons; no real id or reason code is 0) because a
 * unique key must treat two absent values as equal.
 */
export const ROLLUP_KEY_COLUMNS = [
  'bucket', 'smart_link_id', 'partner_id', 'entry_id', 'offer_id', 'offer_url_id', 'advertiser_id',
  'country', 'device_type', 'os', 'browser', 'sub1', 'sub2', 'sub3', 'sub4', 'sub5', 'source_id',
  'outcome', 'reason',
] as const;

export type RollupKeyColumn = (typeof ROLLUP_KEY_COLUMNS)[number];
/** A key column other than the time bucket. */
export type RollupDimension = Exclude<RollupKeyColumn, 'bucket'>;

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

/**
 * Bucket sizes. Fifteen minutes because every UTC offset in use is a whole number of quarter hours
 * (+5:45, +9:30, ...), so any local day or hour is an exact union of quarter buckets; hour and day
 * buckets serve the parts of a range that are whole UTC hours or days.
 */
export type Grain = 'quarter' | 'hour' | 'day';
export const GRAIN_MS: Readonly<Record<Grain, number>> = { quarter: 15 * 60_000, hour: 3_600_000, day: 86_400_000 };

/**
 * What a click *is* from the network's side: link, entry, offer, URL, advertiser, outcome and its
 * reason. They are nearly fixed by the entry (an entry names its link and offer, an offer its
 * advertiser; reasons exist only for the few unrouted outcomes), so together they have about as many
 * values as there are entries, and a cube over them stays small. Partner, country and above all the
 * free-text sub1–sub5 and source_id multiply that count, so each coarse cube adds at most one of them.
 */
const LINK_DIMENSIONS = ['smart_link_id', 'entry_id', 'offer_id', 'offer_url_id', 'advertiser_id', 'outcome', 'reason'] as const;

export const ROLLUP_TABLES = [
  'report_links_day', 'report_partner_links_day', 'report_countries_day',
  'report_links_hour', 'report_partner_links_hour', 'report_countries_hour',
  'report_links_quarter', 'report_rollups',
] as const;
export type RollupTable = (typeof ROLLUP_TABLES)[number];

/** One rollup table: sums per `grain` bucket × `dimensions`. */
export interface RollupCube {
  table: RollupTable;
  grain: Grain;
  dimensions: readonly RollupDimension[];
  /**
   * A dimension placed before the bucket in the primary key, so that requests filtered on it read
   * only their own rows (a partner key's report in a cube of every partner). Without it the key is
   * the bucket, then the dimensions: a time range is one key range.
   */
  leading?: RollupDimension;
}

/**
 * Every rollup, all kept by the writer in the transaction of the clicks and conversions they count,
 * listed in the order a report prefers them: coarser buckets first, then fewer dimensions. The
 * planner (reporting/rollup-plan.ts) answers each part of a range from the first cube whose bucket
 * fits inside that part and which holds every grouped and filtered dimension. The last one, the
 * quarter-hour cube over every dimension, holds everything and answers whatever the others cannot.
 */
export const ROLLUP_CUBES: readonly RollupCube[] = [
  { table: 'report_links_day', grain: 'day', dimensions: LINK_DIMENSIONS },
  { table: 'report_partner_links_day', grain: 'day', dimensions: ['partner_id', ...LINK_DIMENSIONS], leading: 'partner_id' },
  { table: 'report_countries_day', grain: 'day', dimensions: [...LINK_DIMENSIONS, 'country'] },
  { table: 'report_links_hour', grain: 'hour', dimensions: LINK_DIMENSIONS },
  { table: 'report_partner_links_hour', grain: 'hour', dimensions: ['partner_id', ...LINK_DIMENSIONS], leading: 'partner_id' },
  { table: 'report_countries_hour', grain: 'hour', dimensions: [...LINK_DIMENSIONS, 'country'] },
  // Zones at :30/:45 (India, Nepal, Newfoundland, ...) need quarter buckets around each local
  // midnight: without this cube even a report by offer would read them from report_rollups.
  { table: 'report_links_quarter', grain: 'quarter', dimensions: LINK_DIMENSIONS },
  { table: 'report_rollups', grain: 'quarter', dimensions: ROLLUP_KEY_COLUMNS.filter((c): c is RollupDimension => c !== 'bucket') },
];
