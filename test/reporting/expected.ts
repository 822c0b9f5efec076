import type { TestServer } from '../support/api-server.js';
import { withClicksDb } from '../support/clicks.js';

/**
 * An independent model of the report: reads raw clicks and conversions from the SQLite file and
 * aggregates them in plain JS, with its own local-time formatting (Intl's `longOffset`), so the
 * server's rollups and bucket mapping are checked against the raw records, not against themselves.
 */
export interface RawClick {
  transaction_id: string;
  time: string;
  smart_link_id: number;
  partner_id: number;
  entry_id: number | null;
  offer_id: number | null;
  offer_url_id: number | null;
  advertiser_id: number | null;
  outcome: string;
  reason: number | null;
  is_unique: number;
  country: string | null;
  device_type: string | null;
  os: string | null;
  browser: string | null;
  sub1: string | null;
  sub2: string | null;
  sub3: string | null;
  sub4: string | null;
  sub5: string | null;
  source_id: string | null;
  skipped: string;
}

export interface RawConversion {
  transaction_id: string;
  time: string;
  status: string;
  event_key: string;
  payout_micros: number;
  revenue_micros: number;
}

export function readRaw(server: TestServer): { clicks: RawClick[]; conversions: RawConversion[] } {
  return withClicksDb(server.dataDir, (db) => ({
    clicks: db.prepare('select * from clicks').all() as RawClick[],
    conversions: db.prepare('select * from conversions').all() as RawConversion[],
  }));
}

export function localDay(time: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(time));
}

export function localHour(time: string, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', timeZoneName: 'longOffset' })
      .formatToParts(new Date(time)).map((p) => [p.type, p.value]),
  );
  const offset = parts.timeZoneName === 'GMT' ? '+00:00' : String(parts.timeZoneName).replace('GMT', '');
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:00:00${offset}`;
}

type Row = Record<string, string | number | null>;
const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** Dimension name → value of a click (conversions use their click's values, at their own time). */
function dimensionValue(name: string, click: RawClick, time: string, timeZone: string): [string, string | number | null] {
  if (name === 'day') return ['day', localDay(time, timeZone)];
  if (name === 'hour') return ['hour', localHour(time, timeZone)];
  const key = ['smart_link', 'entry', 'offer', 'offer_url', 'partner', 'advertiser'].includes(name) ? `${name}_id` : name;
  return [key, (click as unknown as Row)[key] ?? null];
}

/** The expected rows (without `*_name`) of a report over local days [fromDay, toDay]. */
export function expectedReport(
  raw: { clicks: RawClick[]; conversions: RawConversion[] },
  options: { groupBy: string[]; timeZone: string; fromDay: string; toDay: string; partnerId?: number; where?: (click: RawClick) => boolean },
): { rows: Row[]; totals: Row } {
  const inRange = (time: string) => {
    const day = localDay(time, options.timeZone);
    return day >= options.fromDay && day <= options.toDay;
  };
  const groups = new Map<string, { keys: Row; s: number[] }>();
  const add = (click: RawClick, time: string, s: number[]) => {
    if (!inRange(time) || (options.partnerId !== undefined && click.partner_id !== options.partnerId)) return;
    if (options.where && !options.where(click)) return;
    const keys = Object.fromEntries(options.groupBy.map((name) => dimensionValue(name, click, time, options.timeZone)));
    const id = JSON.stringify(keys);
    const group = groups.get(id) ?? { keys, s: [0, 0, 0, 0, 0, 0, 0, 0] };
    s.forEach((v, i) => (group.s[i] = (group.s[i] ?? 0) + v));
    groups.set(id, group);
  };
  const byId = new Map(raw.clicks.map((c) => [c.transaction_id, c]));
  for (const c of raw.clicks) {
    add(c, c.time, [1, c.is_unique, 1 - c.is_unique, c.outcome === 'invalid' || c.outcome === 'no_match' ? 1 : 0, 0, 0, 0, 0]);
  }
  for (const v of raw.conversions) {
    const click = byId.get(v.transaction_id);
    if (!click || (v.status !== 'approved' && v.status !== 'pending')) continue;
    add(click, v.time, [0, 0, 0, 0, v.event_key === '' ? 1 : 0, v.event_key === '' ? 0 : 1, v.revenue_micros, v.payout_micros]);
  }
  const columns = (s: number[]): Row => {
    const [clicks = 0, unique = 0, duplicate = 0, invalid = 0, conversions = 0, events = 0, revenue = 0, payout = 0] = s;
    const per = (x: number) => (clicks === 0 ? 0 : round6(x / clicks));
    return {
      clicks, unique_clicks: unique, duplicate_clicks: duplicate, invalid_clicks: invalid, conversions, events,
      cvr: per(conversions), evr: per(events), revenue: revenue / 1e6, payout: payout / 1e6, profit: (revenue - payout) / 1e6,
      epc: per(payout / 1e6), rpc: per(revenue / 1e6),
    };
  };
  const total = [0, 0, 0, 0, 0, 0, 0, 0];
  const rows = [...groups.values()].map((g) => {
    g.s.forEach((v, i) => (total[i] = (total[i] ?? 0) + v));
    return { ...g.keys, ...columns(g.s) };
  });
  return { rows, totals: columns(total) };
}

/** A small RFC 4180 parser for checking the CSV answers. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(cell), (cell = '');
    else if (ch === '\r' && text[i + 1] === '\n') row.push(cell), rows.push(row), (row = []), (cell = ''), i++;
    else cell += ch;
  }
  if (cell !== '' || row.length > 0) row.push(cell), rows.push(row);
  return rows;
}
