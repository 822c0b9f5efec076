import { sql } from 'kysely';
import type { KpiClickHour, KpiStatsReader } from '../../ports/store.js';
import type { Executor } from './dialect.js';
import { moneySum } from './money-sum.js';

/**
 * The raw reads of a KPI run (SPEC §5), each bounded by the smart link and a time range so it is
 * served by clicks_smart_link_time (clicks) or conversions_smart_link_time (conversions).
 * Times are ISO 8601 UTC text of one shape, so text order is time order.
 */
const HOUR_MS = 3_600_000;

/** [from, to) cut at UTC hour boundaries, as ISO pairs. */
function hoursOf(from: string, to: string): [string, string][] {
  const toMs = Date.parse(to);
  const pieces: [string, string][] = [];
  for (let startMs = Date.parse(from); startMs < toMs; ) {
    const endMs = Math.min((Math.floor(startMs / HOUR_MS) + 1) * HOUR_MS, toMs);
    pieces.push([new Date(startMs).toISOString(), new Date(endMs).toISOString()]);
    startMs = endMs;
  }
  return pieces;
}

export function kpiStatsReader(db: Executor): KpiStatsReader {
  return {
    async clickHours(smartLinkId, from, to) {
      // One query per UTC hour, yielding in between: on an embedded database each query holds the
      // event loop, so a busy link's window costs many short pauses instead of one long one.
      const result: KpiClickHour[] = [];
      for (const [start, end] of hoursOf(from, to)) {
        const { rows } = await sql<{ entry_id: number | string; clicks: number | string }>`
          select entry_id, count(*) as clicks from clicks
          where smart_link_id = ${smartLinkId} and time >= ${start} and time < ${end} and entry_id is not null
          group by entry_id`.execute(db);
        const hour = `${start.slice(0, 13)}:00:00.000Z`;
        for (const r of rows) result.push({ entryId: Number(r.entry_id), hour, clicks: Number(r.clicks) });
        await new Promise((resolve) => setImmediate(resolve));
      }
      return result;
    },
    async conversionHours(smartLinkId, from, to) {
      // A conversion carries its click's link, entry and time, so no join with clicks is needed; and
      // it comes after its click, so `time >= from` lets conversions_smart_link_time bound the scan
      // to the window's conversions, far fewer than its clicks.
      const { rows } = await sql<{
        entry_id: number | string;
        hour: string;
        conversions: number | string | null;
        events: number | string | null;
        revenue_micros: number | string | null;
        payout_micros: number | string | null;
      }>`
        select entry_id, substr(click_time, 1, 13) as hour,
          sum(case when event_key = '' then 1 else 0 end) as conversions,
          sum(case when event_key = '' then 0 else 1 end) as events,
          ${moneySum(sql.ref('revenue_micros'))} as revenue_micros,
          ${moneySum(sql.ref('payout_micros'))} as payout_micros
        from conversions
        where smart_link_id = ${smartLinkId} and time >= ${from} and click_time >= ${from} and click_time < ${to}
          and entry_id is not null and status = 'approved'
        group by entry_id, substr(click_time, 1, 13)`.execute(db);
      return rows.map((r) => ({
        entryId: Number(r.entry_id),
        hour: `${r.hour}:00:00.000Z`,
        conversions: Number(r.conversions ?? 0),
        events: Number(r.events ?? 0),
        revenueMicros: Number(r.revenue_micros ?? 0),
        payoutMicros: Number(r.payout_micros ?? 0),
      }));
    },
    async countClicks(smartLinkId, from, to) {
      const { rows } = await sql<{ n: number | string }>`select count(*) as n from clicks
        where smart_link_id = ${smartLinkId} and time >= ${from} and time < ${to} and outcome <> 'invalid'`.execute(db);
      return Number(rows[0]?.n ?? 0);
    },
    async conversionDelaysMs(smartLinkId, limit) {
      const { rows } = await sql<{ time: string; click_time: string }>`select time, click_time from conversions
        where smart_link_id = ${smartLinkId} and status = 'approved' and event_key = ''
        order by time desc limit ${limit}`.execute(db);
      return rows.map((r) => Math.max(0, Date.parse(r.time) - Date.parse(r.click_time)));
    },
  };
}
