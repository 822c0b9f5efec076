import type { ClickOutcome, ClickRecord, DeviceType, SkippedEntry } from '../../domain/click.js';

/** One row of the `clicks` table: the record flattened, `skipped` as JSON text, `is_unique` as 0/1. */
export interface ClickRow {
  transaction_id: string;
  time: string;
  smart_link_id: number;
  partner_id: number;
  tracking_token: string;
  entry_id: number | null;
  offer_id: number | null;
  offer_url_id: number | null;
  advertiser_id: number | null;
  outcome: string;
  reason: number | null;
  skipped: string;
  is_unique: number;
  ip: string | null;
  user_agent: string | null;
  os: string | null;
  os_version: string | null;
  device_type: string | null;
  browser: string | null;
  brand: string | null;
  language: string | null;
  country: string | null;
  region: string | null;
  city: string | null;
  sub1: string | null;
  sub2: string | null;
  sub3: string | null;
  sub4: string | null;
  sub5: string | null;
  source_id: string | null;
  destination: string | null;
  kpi_run_id: number | null;
  idfa: string | null;
  gaid: string | null;
  deep_link: string | null;
  visitor_id: string | null;
}

export function clickToRow(click: ClickRecord): ClickRow {
  const { device, geo } = click;
  return {
    transaction_id: click.transaction_id,
    time: click.time,
    smart_link_id: click.smart_link_id,
    partner_id: click.partner_id,
    tracking_token: click.tracking_token,
    entry_id: click.entry_id,
    offer_id: click.offer_id,
    offer_url_id: click.offer_url_id,
    advertiser_id: click.advertiser_id,
    outcome: click.outcome,
    reason: click.reason,
    skipped: JSON.stringify(click.skipped),
    is_unique: click.is_unique ? 1 : 0,
    ip: click.ip,
    user_agent: click.user_agent,
    os: device.os,
    os_version: device.os_version,
    device_type: device.device_type,
    browser: device.browser,
    brand: device.brand,
    language: device.language,
    country: geo.country,
    region: geo.region,
    city: geo.city,
    sub1: click.sub1,
    sub2: click.sub2,
    sub3: click.sub3,
    sub4: click.sub4,
    sub5: click.sub5,
    source_id: click.source_id,
    destination: click.destination,
    kpi_run_id: click.kpi_run_id,
    // Tolerates records written before these fields existed (undefined is not a bindable value).
    idfa: click.idfa ?? null,
    gaid: click.gaid ?? null,
    deep_link: click.deep_link ?? null,
    visitor_id: click.visitor_id ?? null,
  };
}

/** Drivers may return integers as strings (PostgreSQL bigint); normalise them. */
const int = (value: number | string | null): number | null => (value === null ? null : Number(value));

export function clickFromRow(row: ClickRow): ClickRecord {
  return {
    transaction_id: row.transaction_id,
    time: row.time,
    smart_link_id: Number(row.smart_link_id),
    partner_id: Number(row.partner_id),
    tracking_token: row.tracking_token,
    entry_id: int(row.entry_id),
    offer_id: int(row.offer_id),
    offer_url_id: int(row.offer_url_id),
    advertiser_id: int(row.advertiser_id),
    // The writer only stores values of these unions; the casts restore the types the columns lost.
    outcome: row.outcome as ClickOutcome,
    reason: int(row.reason),
    skipped: JSON.parse(row.skipped) as SkippedEntry[],
    is_unique: Number(row.is_unique) === 1,
    ip: row.ip,
    user_agent: row.user_agent,
    device: {
      os: row.os,
      os_version: row.os_version,
      device_type: row.device_type as DeviceType | null,
      browser: row.browser,
      brand: row.brand,
      language: row.language,
    },
    geo: { country: row.country, region: row.region, city: row.city },
    sub1: row.sub1,
    sub2: row.sub2,
    sub3: row.sub3,
    sub4: row.sub4,
    sub5: row.sub5,
    source_id: row.source_id,
    idfa: row.idfa ?? null,
    gaid: row.gaid ?? null,
    // Clicks stored before visitor ids were each their own visitor.
    visitor_id: row.visitor_id ?? row.transaction_id,
    destination: row.destination,
    deep_link: (row.deep_link ?? null) as ClickRecord['deep_link'],
    kpi_run_id: int(row.kpi_run_id),
  };
}

// A Record over every key, so the compiler rejects a column missing from (or extra to) ClickRow.
const columnSet: Record<keyof ClickRow, true> = {
  transaction_id: true, time: true, smart_link_id: true, partner_id: true, tracking_token: true, entry_id: true,
  offer_id: true, offer_url_id: true, advertiser_id: true, outcome: true, reason: true, skipped: true, is_unique: true,
  ip: true, user_agent: true, os: true, os_version: true, device_type: true, browser: true, brand: true,
  language: true, country: true, region: true, city: true, sub1: true, sub2: true, sub3: true, sub4: true, sub5: true,
  source_id: true, destination: true, kpi_run_id: true, idfa: true, gaid: true, deep_link: true, visitor_id: true,
};

/** Every column of the `clicks` table; the single source for the insert statement. */
export const CLICK_COLUMNS = Object.keys(columnSet) as (keyof ClickRow)[];
