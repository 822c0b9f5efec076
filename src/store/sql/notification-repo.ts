import { sql } from 'kysely';
import type { CapNotification, NotificationRecord } from '../../domain/notification.js';
import type { NotificationRepo } from '../../ports/store.js';
import type { Executor } from './dialect.js';

interface NotificationRow {
  id: number | string;
  time: string;
  kind: string;
  scope: string;
  offer_id: number | string;
  partner_id: number | string | null;
  metric: string;
  period: string;
  period_key: string;
  limit_value: number | string;
  used_value: number | string;
}

// The insert stores only values of these unions; the casts restore the types the columns lost.
const fromRow = (row: NotificationRow): NotificationRecord => ({
  id: Number(row.id),
  kind: row.kind as CapNotification['kind'],
  time: row.time,
  scope: row.scope as CapNotification['scope'],
  offer_id: Number(row.offer_id),
  partner_id: row.partner_id === null ? null : Number(row.partner_id),
  metric: row.metric as CapNotification['metric'],
  period: row.period as CapNotification['period'],
  period_key: row.period_key,
  limit: Number(row.limit_value),
  used: Number(row.used_value),
});

export function notificationRepo(db: Executor): NotificationRepo {
  return {
    async insert(n, dedupeKey) {
      const result = await sql`insert into notifications
        (dedupe_key, time, kind, scope, offer_id, partner_id, metric, period, period_key, limit_value, used_value)
        values (${dedupeKey}, ${n.time}, ${n.kind}, ${n.scope}, ${n.offer_id}, ${n.partner_id}, ${n.metric}, ${n.period},
          ${n.period_key}, ${n.limit}, ${n.used})
        on conflict (dedupe_key) do nothing`.execute(db);
      return Number(result.numAffectedRows ?? 0) > 0;
    },
    async list({ page, pageSize }) {
      const { rows } = await sql<NotificationRow>`select * from notifications order by time desc, id desc
        limit ${pageSize} offset ${(page - 1) * pageSize}`.execute(db);
      const counted = await sql<{ total: number | string }>`select count(*) as total from notifications`.execute(db);
      return { rows: rows.map(fromRow), total: Number(counted.rows[0]?.total ?? 0) };
    },
  };
}
