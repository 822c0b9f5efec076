import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Id, PageQuery, StringEnum } from './common.js';

/** A soft cap reached (SPEC §8): one per cap and period. Money in currency units. */
export const Notification = Type.Object({
  id: Id,
  kind: StringEnum(['soft_cap_reached'] as const),
  time: DateTime,
  scope: StringEnum(['offer', 'partner'] as const, { description: 'An offer cap, or a partner cap on the offer.' }),
  offer_id: Id,
  partner_id: Type.Union([Id, Type.Null()]),
  metric: StringEnum(['clicks', 'conversions', 'payout', 'revenue'] as const),
  period: StringEnum(['daily', 'weekly', 'monthly', 'global'] as const),
  period_key: Type.String({ description: "The period in the offer's caps time zone, e.g. `day-2025-03-30`." }),
  limit: Type.Number(),
  used: Type.Number({ description: 'The counter when the limit was reached.' }),
});
export type Notification = Static<typeof Notification>;

export const NotificationListQuery = PageQuery;
export type NotificationListQuery = Static<typeof NotificationListQuery>;
