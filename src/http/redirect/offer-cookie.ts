import type { OfferCookieIds, OfferView } from '../../engine/index.js';

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

/** The longest a browser keeps a cookie (Chrome caps Max-Age at 400 days; RFC 6265bis allows the cap). */
const BROWSER_COOKIE_LIMIT_S = 400 * 86_400;

/**
 * How long the browser keeps an offer's cookie, in seconds: the attribution window (SPEC §10.2), or
 * longer when the offer's filters know the browser by this cookie (SPEC §9): the duplicate window,
 * and with block_already_converted as long as browsers allow, since a converted browser is never
 * routed to the offer again to get a fresh cookie. Dropped sooner, the browser's next click inside
 * the window counted as a new visitor, and a converted one was served the offer again. A pixel read
 * after the attribution window stores its conversion rejected, as a late postback does.
 */
export function offerCookieMaxAge(offer: Pick<OfferView, 'attributionWindowDays' | 'duplicateFilter' | 'blockAlreadyConverted'>): number {
  const attribution = offer.attributionWindowDays * 86_400;
  const filter = offer.duplicateFilter;
  if (filter.identifier !== 'cookie') return attribution;
  return Math.max(attribution, filter.windowHours * 3_600, offer.blockAlreadyConverted ? BROWSER_COOKIE_LIMIT_S : 0);
}

/** Set-Cookie value; Secure (and so SameSite=None) only when the click came over HTTPS (see servedOverHttps). */
export function offerCookie(offerId: number, cookie: OfferCookie, maxAgeSeconds: number, secure: boolean): string {
  const attributes = [`Max-Age=${maxAgeSeconds}`, 'Path=/', 'HttpOnly', secure ? 'Secure; SameSite=None' : 'SameSite=Lax'];
  const value = cookie.visitorId === cookie.transactionId ? cookie.transactionId : `${cookie.transactionId}.${cookie.visitorId}`;
  return `${COOKIE_PREFIX}${offerId}=${value}; ${attributes.join('; ')}`;
}
