import { numberToMicros, percentOf } from './money.js';

export type ConversionStatus = 'approved' | 'pending' | 'rejected';
export type ConversionMethod = 'server_postback' | 'cookie';

/** Why a conversion was stored as rejected (or as pending: over a hard cap, SPEC §8). */
export const REJECTION = { outsideAttributionWindow: 'outside_attribution_window', overHardCap: 'over_hard_cap' } as const;

/** One stored conversion, attributed to everything its click was (SPEC §2, §10.3). */
export interface ConversionRecord {
  id: number;
  transaction_id: string;
  /** ISO 8601 UTC: when the conversion was recorded. */
  time: string;
  /** ISO 8601 UTC of the click it converts. */
  click_time: string;
  offer_id: number;
  partner_id: number;
  advertiser_id: number;
  smart_link_id: number;
  entry_id: number | null;
  offer_url_id: number | null;
  method: ConversionMethod;
  status: ConversionStatus;
  status_reason: string | null;
  /** null = the base conversion. */
  event_id: string | null;
  order_id: string | null;
  /** The sale amount the advertiser reported; null when none was sent. */
  amount_micros: number | null;
  payout_micros: number;
  revenue_micros: number;
  adv1: string | null;
  adv2: string | null;
  adv3: string | null;
  adv4: string | null;
  adv5: string | null;
}

export type NewConversion = Omit<ConversionRecord, 'id'>;

/**
 * The idempotency key a conversion is stored under, unique per click (transaction id).
 * - Events: (event_id, order_id or ''), so a replay of the same event and order is a duplicate and
 *   a different order of the same event is new.
 * - Base conversions: ('', '') when the offer does not allow duplicate conversions — the order id
 *   is ignored, so a click converts once whatever the advertiser sends; when it does allow them,
 *   ('', order_id or ''), so each new order converts again and a replay of one order does not.
 * The unique index over (transaction_id, event_key, order_key) then decides duplicates atomically.
 */
export function identityOf(eventId: string | null, orderId: string | null, allowDuplicates: boolean): { event_key: string; order_key: string } {
  if (eventId !== null) return { event_key: eventId, order_key: orderId ?? '' };
  return { event_key: '', order_key: allowDuplicates ? (orderId ?? '') : '' };
}

/** An offer's payout or revenue rule: a fixed amount, or a percentage of the sale amount. */
export interface AmountRule {
  type: 'fixed' | 'percent';
  value: number;
}

/**
 * Payout or revenue in micros for a sale of `amountMicros` (none = 0), exact and rounded half up;
 * undefined when it does not fit the storable range.
 */
export function amountFor(rule: AmountRule, amountMicros: number | null): number | undefined {
  const valueMicros = numberToMicros(rule.value);
  if (valueMicros === undefined) return undefined;
  return rule.type === 'fixed' ? valueMicros : percentOf(amountMicros ?? 0, valueMicros);
}

/** Whether a click at `clickTimeMs` may still convert at `nowMs`. */
export function withinAttributionWindow(clickTimeMs: number, windowDays: number, nowMs: number): boolean {
  return nowMs <= clickTimeMs + windowDays * 86_400_000;
}
