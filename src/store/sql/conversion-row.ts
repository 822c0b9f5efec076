import type { ConversionMethod, ConversionRecord, ConversionStatus } from '../../domain/conversion.js';
import type { ConversionWrite } from '../../ports/conversion-writer.js';

/** One row of the `conversions` table (migration 0003). */
export interface ConversionRow {
  id: number;
  transaction_id: string;
  event_key: string;
  order_key: string;
  order_id: string | null;
  time: string;
  click_time: string;
  offer_id: number;
  partner_id: number;
  advertiser_id: number;
  smart_link_id: number;
  entry_id: number | null;
  offer_url_id: number | null;
  method: string;
  status: string;
  status_reason: string | null;
  amount_micros: number | null;
  payout_micros: number;
  revenue_micros: number;
  adv1: string | null;
  adv2: string | null;
  adv3: string | null;
  adv4: string | null;
  adv5: string | null;
}

export type NewConversionRow = Omit<ConversionRow, 'id'>;

export function conversionToRow(write: ConversionWrite): NewConversionRow {
  const { event_id: _event, ...fields } = write.conversion;
  // The event id is the event key itself ('' = base conversion), so it needs no column of its own.
  return { ...fields, event_key: write.event_key, order_key: write.order_key };
}

/** Drivers may return integers as strings (PostgreSQL bigint); normalise them. */
const int = (value: number | string | null): number | null => (value === null ? null : Number(value));

export function conversionFromRow(row: ConversionRow): ConversionRecord {
  return {
    id: Number(row.id),
    transaction_id: row.transaction_id,
    time: row.time,
    click_time: row.click_time,
    offer_id: Number(row.offer_id),
    partner_id: Number(row.partner_id),
    advertiser_id: Number(row.advertiser_id),
    smart_link_id: Number(row.smart_link_id),
    entry_id: int(row.entry_id),
    offer_url_id: int(row.offer_url_id),
    // The writer stores only values of these unions; the casts restore the types the columns lost.
    method: row.method as ConversionMethod,
    status: row.status as ConversionStatus,
    status_reason: row.status_reason,
    event_id: row.event_key === '' ? null : row.event_key,
    order_id: row.order_id,
    amount_micros: int(row.amount_micros),
    payout_micros: Number(row.payout_micros),
    revenue_micros: Number(row.revenue_micros),
    adv1: row.adv1,
    adv2: row.adv2,
    adv3: row.adv3,
    adv4: row.adv4,
    adv5: row.adv5,
  };
}

// A Record over every key, so the compiler rejects a column missing from (or extra to) the row.
const columnSet: Record<keyof NewConversionRow, true> = {
  transaction_id: true, event_key: true, order_key: true, order_id: true, time: true, click_time: true,
  offer_id: true, partner_id: true, advertiser_id: true, smart_link_id: true, entry_id: true, offer_url_id: true,
  method: true, status: true, status_reason: true, amount_micros: true, payout_micros: true, revenue_micros: true,
  adv1: true, adv2: true, adv3: true, adv4: true, adv5: true,
};

/** Every column an insert sets; the single source for the writer's statement. */
export const CONVERSION_COLUMNS = Object.keys(columnSet) as (keyof NewConversionRow)[];
