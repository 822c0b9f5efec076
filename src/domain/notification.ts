import type { Cap } from './schemas/offer.js';

/**
 * A soft cap reached (SPEC §8): emitted once per cap and period. `limit` and `used` are in the
 * counter's unit: clicks or conversions, or micros for payout and revenue.
 */
export interface CapNotification {
  kind: 'soft_cap_reached';
  /** ISO 8601 UTC: when the counter reached the limit. */
  time: string;
  scope: 'offer' | 'partner';
  offer_id: number;
  /** The partner of a partner cap; null for an offer cap. */
  partner_id: number | null;
  metric: Cap['metric'];
  period: Cap['period'];
  /** The period the counter belongs to, in the offer's caps time zone (e.g. `2025-03-30`, `week-2025-03-24`). */
  period_key: string;
  limit: number;
  used: number;
}

export interface NotificationRecord extends CapNotification {
  id: number;
}
