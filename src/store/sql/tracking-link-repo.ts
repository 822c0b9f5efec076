import { sql } from 'kysely';
import type { TrackingLinkRecord } from '../../domain/records.js';
import type { TrackingLinkRepo } from '../../ports/store.js';
import type { Clock, Executor } from './dialect.js';

interface Row {
  token: string;
  smart_link_id: number | string;
  partner_id: number | string;
  data: string;
  created_at: string;
}

type Subs = Pick<TrackingLinkRecord, 'sub1' | 'sub2' | 'sub3' | 'sub4' | 'sub5'>;

const fromRow = (row: Row): TrackingLinkRecord => ({
  token: row.token,
  smart_link_id: Number(row.smart_link_id),
  partner_id: Number(row.partner_id),
  ...(JSON.parse(row.data) as Subs),
  created_at: row.created_at,
});

export function trackingLinkRepo(db: Executor, clock: Clock): TrackingLinkRepo {
  return {
    async insert({ token, smart_link_id, partner_id, ...subs }) {
      const { rows } = await sql<Row>`insert into tracking_links (token, smart_link_id, partner_id, data, created_at)
        values (${token}, ${smart_link_id}, ${partner_id}, ${JSON.stringify(subs)}, ${clock().toISOString()})
        returning *`.execute(db);
      return fromRow(rows[0] as Row);
    },
    async list({ smartLinkId, partnerId, page, pageSize }) {
      const partner = partnerId === undefined ? sql`1 = 1` : sql`partner_id = ${partnerId}`;
      const where = sql`smart_link_id = ${smartLinkId} and ${partner}`;
      const { rows } = await sql<Row>`select * from tracking_links where ${where}
        order by created_at, token limit ${pageSize} offset ${(page - 1) * pageSize}`.execute(db);
      const counted = await sql<{ n: number | string }>`select count(*) as n from tracking_links where ${where}`.execute(db);
      return { rows: rows.map(fromRow), total: Number(counted.rows[0]?.n ?? 0) };
    },
    async all() {
      const { rows } = await sql<Row>`select * from tracking_links`.execute(db);
      return rows.map(fromRow);
    },
  };
}
