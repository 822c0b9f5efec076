import type { OfferCookieIds } from '../../engine/index.js';

/**
 * The first-party cookie a click leaves for the offer it reached, one per offer: the click's
 * transaction id, read back by the conversion pixel, and the browser's visitor id on the offer
 * (the transaction id of its first click there), which the `cookie` identifier of the duplicate
 * and already-converted filters recognises. Written `<transaction id>.<visitor id>`, or just the
 * transaction id on a first click (and by versions before the visitor id existed).
 */
const COOKIE_PREFIX = 'sy_o';
const OUR_COOKIE = /^sy_o(\d{1,15})=([0-9a-f]{32})(?:\.([0-9a-f]{32}))?$/;

/** The cookie holds what the engine reads of it (the latest click's transaction id, the visitor id). */
export type OfferCookie = OfferCookieIds;

/** Our offer cookies in a Cookie header, by offer id; anything else in the header is ignored. */
export function readOfferCookies(header: string | undefined): Map<number, OfferCookie> {
  const found = new Map<number, OfferCookie>();
  if (!header) return found;
  for (const part of header.split(';')) {
    const match = OUR_COOKIE.exec(part.trim());
    if (match) found.set(Number(match[1]), { transactionId: match[2] as string, visitorId: match[3] ?? (match[2] as string) });
  }
  return found;
}

/** Set-Cookie value; Secure (and so SameSite=None) only when the click came over HTTPS (see servedOverHttps). */
export function offerCookie(offerId: number, cookie: OfferCookie, maxAgeDays: number, secure: boolean): string {
  const attributes = [`Max-Age=${maxAgeDays * 86_400}`, 'Path=/', 'HttpOnly', secure ? 'Secure; SameSite=None' : 'SameSite=Lax'];
  const value = cookie.visitorId === cookie.transactionId ? cookie.transactionId : `${cookie.transactionId}.${cookie.visitorId}`;
  return `${COOKIE_PREFIX}${offerId}=${value}; ${attributes.join('; ')}`;
}
