import type { DuplicateFilter } from '../domain/schemas/offer.js';
import type { ClickContext } from './context.js';

export type VisitorIdentifier = NonNullable<DuplicateFilter['identifier']>;

/** Every identifier kind, in the order the duplicate filter lists them. */
export const VISITOR_IDENTIFIERS: readonly VisitorIdentifier[] = ['cookie', 'ip', 'ip_user_agent', 'gaid', 'idfa'];

/** What identifies a routed click's visitor later on: its visitor id (the offer cookie it sets) and its device ids. */
export interface VisitorFacts {
  /** The transaction id of this browser's first click on the offer (see `visitorIdOf`). */
  visitorId: string;
  ip: string | null;
  userAgent: string | null;
  gaid: string | null;
  idfa: string | null;
}

// One formatting per kind, shared by the check (visitorKey) and the memory (rememberedKey), so a
// key remembered at one click is exactly the key asked for at the next.
const cookieKey = (visitorId: string) => `cookie:${visitorId}`;
const ipKey = (ip: string | null) => (ip === null ? null : `ip:${ip}`);
const ipUaKey = (ip: string | null, ua: string | null) => (ip === null || ua === null ? null : `ip_ua:${ip} ${ua}`);
/**
 * An advertising id of zeros is what iOS and Android send for every user who turned ad tracking
 * off: it names nobody, so such a visitor cannot be recognised, like one without the id.
 */
const ZEROED_ID = /^[0-]*$/;
const deviceKey = (kind: 'gaid' | 'idfa', id: string | null) => (id === null || ZEROED_ID.test(id) ? null : `${kind}:${id.toLowerCase()}`);

/**
 * The key that identifies "the same visitor" for an offer's duplicate and already-converted
 * memory, prefixed by its kind so an IP can never collide with a device id. Null when the click
 * does not carry that identifier: such a visitor cannot be recognised and counts as new.
 */
export function visitorKey(identifier: VisitorIdentifier, ctx: ClickContext, offerId: number): string | null {
  // The offer cookie holds the visitor id the browser's earlier clicks were remembered under.
  const earlierVisit = ctx.offer_cookies.get(offerId);
  if (identifier === 'cookie' && earlierVisit === undefined) return null;
  return rememberedKey(identifier, {
    visitorId: earlierVisit?.visitorId ?? '',
    ip: ctx.ip,
    userAgent: ctx.user_agent,
    gaid: ctx.gaid,
    idfa: ctx.idfa,
  });
}

/**
 * The key the duplicate filter asks when this visitor last clicked the offer: the window runs from
 * the visitor's latest click. For `cookie` that is the latest click the offer cookie names (its
 * transaction id carries its time), not the first one its visitor id names; for the other
 * identifiers it is the visitor key itself, whose memory holds the time of its latest click.
 */
export function lastClickKey(identifier: VisitorIdentifier, ctx: ClickContext, offerId: number): string | null {
  if (identifier !== 'cookie') return visitorKey(identifier, ctx, offerId);
  const cookie = ctx.offer_cookies.get(offerId);
  return cookie === undefined ? null : cookieKey(cookie.transactionId);
}

/**
 * A click's visitor id on the offer it reached: the one its offer cookie already carries, or, on
 * the browser's first click there, the click's own transaction id. It stays the same over the
 * browser's later clicks, so a conversion reported for any of them (they often arrive after the
 * visitor clicked again) marks the identity the next click presents.
 */
export function visitorIdOf(ctx: ClickContext, offerId: number | null): string {
  return (offerId === null ? undefined : ctx.offer_cookies.get(offerId)?.visitorId) ?? ctx.transaction_id;
}

/**
 * The key a routed click is remembered under, so that the visitor's next click finds it through
 * `visitorKey`. For `cookie` that is the visitor id: the offer cookie set on this click's answer
 * carries it, and the browser sends it back on the next click.
 */
export function rememberedKey(identifier: VisitorIdentifier, facts: VisitorFacts): string | null {
  switch (identifier) {
    case 'cookie':
      return cookieKey(facts.visitorId);
    case 'ip':
      return ipKey(facts.ip);
    case 'ip_user_agent':
      return ipUaKey(facts.ip, facts.userAgent);
    case 'gaid':
      return deviceKey('gaid', facts.gaid);
    case 'idfa':
      return deviceKey('idfa', facts.idfa);
  }
}
