import type { RollupKeyColumn } from '../domain/report.js';
import type { NamedEntity } from '../ports/report-reader.js';


export interface Dimension {
  /** The rollup column it groups on; day and hour group on the bucket and are mapped to local time in JS. */
  column: RollupKeyColumn;
  /** The output key of the value (`offer` → `offer_id`). */
  key: string;
  /** Entity dimensions also get `<entity>_name`. */
  entity?: { table: NamedEntity; nameKey: string };
  /** Hidden from partner keys (they never see who the advertiser is). */
  adminOnly?: boolean;
}

const entity = (column: RollupKeyColumn, table: NamedEntity, adminOnly = false): Dimension => ({
  column, key: column, entity: { table, nameKey: column.replace(/_id$/, '_name') }, ...(adminOnly ? { adminOnly } : {}),
});
const plain = (column: RollupKeyColumn): Dimension => ({ column, key: column });

/**
 * The closed list of report dimensions (SPEC §11). Request names are looked up here and SQL column
 * names come only from these values: nothing from the query string is ever written into SQL.
 */
export const DIMENSIONS: Readonly<Record<string, Dimension>> = Object.freeze({
  day: { column: 'bucket', key: 'day' },
  hour: { column: 'bucket', key: 'hour' },
  smart_link: entity('smart_link_id', 'smart_links'),
  entry: entity('entry_id', 'entries'),
  offer: entity('offer_id', 'offers'),
  offer_url: entity('offer_url_id', 'offer_urls'),
  partner: entity('partner_id', 'partners'),
  advertiser: entity('advertiser_id', 'advertisers', true),
  country: plain('country'),
  device_type: plain('device_type'),
  os: plain('os'),
  browser: plain('browser'),
  sub1: plain('sub1'),
  sub2: plain('sub2'),
  sub3: plain('sub3'),
  sub4: plain('sub4'),
  sub5: plain('sub5'),
  source_id: plain('source_id'),
  outcome: plain('outcome'),
  reason: plain('reason'),
});

export const DIMENSION_NAMES = Object.keys(DIMENSIONS);

/**
 * Report columns, in output order. Ratios are rounded to 6 decimal places; money is in currency
 * units, exact to the micro (cvr = conversions/clicks, evr = events/clicks, epc = payout/clicks —
 * what a partner earns per click —, rpc = revenue/clicks, profit = revenue − payout; 0 without clicks).
 */
export const COLUMNS = [
  'clicks', 'unique_clicks', 'duplicate_clicks', 'invalid_clicks', 'conversions', 'events',
  'cvr', 'evr', 'revenue', 'payout', 'profit', 'epc', 'rpc',
] as const;
export type ColumnName = (typeof COLUMNS)[number];

/** Columns a partner key never sees: what the network earns. */
export const ADMIN_ONLY_COLUMNS: ReadonlySet<string> = new Set(['revenue', 'profit', 'rpc']);
