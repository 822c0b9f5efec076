import type { FastifyInstance } from 'fastify';
import { microsToNumber } from '../../domain/money.js';
import type { NotificationRecord } from '../../domain/notification.js';
import { ErrorBody, Page } from '../../domain/schemas/common.js';
import { Notification, NotificationListQuery } from '../../domain/schemas/notification.js';
import { ADMIN_ONLY, requireAdmin } from '../auth.js';
import type { ApiDeps } from './deps.js';
import { pageOf, principalOf } from './helpers.js';

/** Money counters are stored in micros; the API speaks currency units, like conversions. */
function present(record: NotificationRecord): Notification {
  const money = record.metric === 'payout' || record.metric === 'revenue';
  return { ...record, limit: money ? microsToNumber(record.limit) : record.limit, used: money ? microsToNumber(record.used) : record.used };
}

/** `GET /notifications` (SPEC §8): soft caps reached, newest first; admin only. */
export function registerNotifications(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/notifications', {
    schema: {
      tags: ['notifications'],
      summary: 'List notification events (soft caps reached), newest first',
      querystring: NotificationListQuery,
      response: { 200: Page(Notification), 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
    },
    config: ADMIN_ONLY,
    handler: async (request) => {
      requireAdmin(principalOf(request));
      const query = request.query as { page: number; page_size: number };
      const result = await deps.store.notifications.list({ page: query.page, pageSize: query.page_size });
      return pageOf({ rows: result.rows.map(present), total: result.total }, query.page, query.page_size);
    },
  });
}
