import { sql } from 'kysely';
import type { HistoryBucket, HistoryTotal, LiveHistoryReader, VisitorRow } from '../../ports/store.js';
import type { Executor } from './dialect.js';
import { moneySum } from './money-sum.js';

// Clicks that reached an offer count toward its caps; no_match and invalid clicks reached none.
const COUNTED_CLICK = sql`offer_id is not null and outcome in ('routed', 'catch_all', 'fail_traffic')`;
const COUNTED_CONVERSION = sql`status in ('approved', 'pending')`;

type Num = number | string | null;
interface SumRow {
  offer_id: Num;
  partner_id: Num;
  minute?: string;
  clicks: Num;
  conversions: Num;
  payout: Num;
  revenue: Num;
}
interface StoredVisitor {
  offer_id: Num;
  visitor_id: string;
  time: string;
  ip: string | null;
  user_agent: string | null;
  idfa: string | null;
  gaid: string | null;
}

// Drivers return integers (and sums) as strings for bigint columns; normalise them.
const num = (value: Num): number => (value === null ? 0 : Number(value));

const moneySumOf = (column: string) => moneySum(sql.ref(column));

/** Merges click sums and conversion sums that share (offer, partner[, minute]). */
function merge<T extends HistoryTotal>(rows: SumRow[], make: (row: SumRow) => T, keyOf: (row: SumRow) => string): T[] {
  const merged = new Map<string, T>();
  for (const row of rows) {
    const key = keyOf(row);
    const existing = merged.get(key);
    if (existing === undefined) {
      merged.set(key, make(row));
      continue;
    }
    existing.clicks += num(row.clicks);
    existing.conversions += num(row.conversions);
    existing.payoutMicros += num(row.payout);
    existing.revenueMicros += num(row.revenue);
  }
  return [...merged.values()];
}

const total = (row: SumRow): HistoryTotal => ({
  offerId: num(row.offer_id),
  partnerId: num(row.partner_id),
  clicks: num(row.clicks),
  conversions: num(row.conversions),
  payoutMicros: num(row.payout),
  revenueMicros: num(row.revenue),
});

const visitor = (row: StoredVisitor): VisitorRow => ({
  offerId: num(row.offer_id),
  visitorId: row.visitor_id,
  time: row.time,
  ip: row.ip,
  userAgent: row.user_agent,
  idfa: row.idfa,
  gaid: row.gaid,
});

export function liveHistoryReader(db: Executor): LiveHistoryReader {
  return {
    async totals() {
      // Clicks from the partner day cube, kept in the same transaction as the raw clicks (one row per
      // click, outcome, offer and partner among its dimensions; clicks without an offer hold 0
      // there): a scan of every click ever stored took ~0.7 s per million at each start, and grew
      // with all-time history, not with the periods and windows the live state needs.
      const { rows } = await sql<SumRow>`
        select offer_id, partner_id, sum(clicks) as clicks, 0 as conversions, 0 as payout, 0 as revenue
          from report_partner_links_day where offer_id <> 0 and outcome in ('routed', 'catch_all', 'fail_traffic') group by offer_id, partner_id
        union all
        select offer_id, partner_id, 0, sum(case when event_key = '' then 1 else 0 end), ${moneySumOf('payout_micros')}, ${moneySumOf('revenue_micros')}
          from conversions where ${COUNTED_CONVERSION} group by offer_id, partner_id`.execute(db);
      return merge(rows, total, (r) => `${num(r.offer_id)}:${num(r.partner_id)}`);
    },
    async bucketsBetween(from, to) {
      const before = to === null ? sql`` : sql`and time < ${to}`;
      // Times are ISO 8601 UTC text of one shape, so the first 16 characters name the minute.
      const { rows } = await sql<SumRow>`
        select offer_id, partner_id, substr(time, 1, 16) as minute, count(*) as clicks, 0 as conversions, 0 as payout, 0 as revenue
          from clicks where time >= ${from} ${before} and ${COUNTED_CLICK} group by offer_id, partner_id, substr(time, 1, 16)
        union all
        select offer_id, partner_id, substr(time, 1, 16), 0, sum(case when event_key = '' then 1 else 0 end), ${moneySumOf('payout_micros')}, ${moneySumOf('revenue_micros')}
          from conversions where time >= ${from} ${before} and ${COUNTED_CONVERSION} group by offer_id, partner_id, substr(time, 1, 16)`.execute(db);
      return merge<HistoryBucket>(rows, (r) => ({ ...total(r), minute: r.minute ?? '' }), (r) => `${num(r.offer_id)}:${num(r.partner_id)}:${r.minute}`);
    },
    async visitorsBetween(from, to, limit) {
      const before = to === null ? sql`` : sql`and time < ${to}`;
      const first = limit === undefined ? sql`` : sql`limit ${limit}`;
      const { rows } = await sql<StoredVisitor>`select offer_id, coalesce(visitor_id, transaction_id) as visitor_id, time, ip, user_agent, idfa, gaid from clicks
        where time >= ${from} ${before} and ${COUNTED_CLICK} order by time ${first}`.execute(db);
      return rows.map(visitor);
    },
    async convertedVisitors() {
      const { rows } = await sql<StoredVisitor>`select c.offer_id, coalesce(k.visitor_id, k.transaction_id) as visitor_id, k.time, k.ip, k.user_agent, k.idfa, k.gaid
        from conversions c join clicks k on k.transaction_id = c.transaction_id
        where c.event_key = '' and c.status in ('approved', 'pending')`.execute(db);
      return rows.map(visitor);
    },
  };
}
