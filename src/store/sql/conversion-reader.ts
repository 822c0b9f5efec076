import { sql, type RawBuilder } from 'kysely';
import type { ConversionQuery, ConversionReader } from '../../ports/store.js';
import { conversionFromRow, type ConversionRow } from './conversion-row.js';
import type { Executor } from './dialect.js';

function whereClause(query: ConversionQuery): RawBuilder<unknown> {
  const conditions: RawBuilder<unknown>[] = [sql`1 = 1`];
  if (query.offerId !== undefined) conditions.push(sql`offer_id = ${query.offerId}`);
  if (query.partnerId !== undefined) conditions.push(sql`partner_id = ${query.partnerId}`);
  if (query.smartLinkId !== undefined) conditions.push(sql`smart_link_id = ${query.smartLinkId}`);
  if (query.status !== undefined) conditions.push(sql`status = ${query.status}`);
  // Times are ISO 8601 UTC text of one fixed shape, so text order is time order.
  if (query.from !== undefined) conditions.push(sql`time >= ${query.from}`);
  if (query.to !== undefined) conditions.push(sql`time < ${query.to}`);
  return sql.join(conditions, sql` and `);
}

export function conversionReader(db: Executor): ConversionReader {
  return {
    async list(query) {
      const where = whereClause(query);
      const offset = (query.page - 1) * query.pageSize;
      const { rows } = await sql<ConversionRow>`select * from conversions where ${where}
        order by time desc, id desc limit ${query.pageSize} offset ${offset}`.execute(db);
      const counted = await sql<{ total: number | string }>`select count(*) as total from conversions where ${where}`.execute(db);
      return { rows: rows.map(conversionFromRow), total: Number(counted.rows[0]?.total ?? 0) };
    },
    async get(id) {
      const { rows } = await sql<ConversionRow>`select * from conversions where id = ${id}`.execute(db);
      const row = rows[0];
      return row === undefined ? undefined : conversionFromRow(row);
    },
    async idOf(transactionId, key) {
      const { rows } = await sql<{ id: number | string }>`select id from conversions
        where transaction_id = ${transactionId} and event_key = ${key.event_key} and order_key = ${key.order_key}`.execute(db);
      const id = rows[0]?.id;
      return id === undefined ? null : Number(id);
    },
    async baseIdOf(transactionId, orderId) {
      const order = orderId === undefined ? sql`` : sql`and order_id = ${orderId}`;
      const { rows } = await sql<{ id: number | string }>`select id from conversions
        where transaction_id = ${transactionId} and event_key = '' ${order} order by id limit 1`.execute(db);
      const id = rows[0]?.id;
      return id === undefined ? null : Number(id);
    },
  };
}
