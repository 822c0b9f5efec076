/**
 * The first-party cookie a click leaves for the offer it reached: the click's transaction id, read
 * back by the conversion pixel and by the `cookie` duplicate identifier. One cookie per offer.
 */
const COOKIE_PREFIX = 'sy_o';
const OUR_COOKIE = /^sy_o(\d{1,15})=([0-9a-f]{32})$/;

/** Our offer cookies in a Cookie header, by offer id; anything else in the header is ignored. */
export function readOfferCookies(header: string | undefined): Map<number, string> {
  const found = new Map<number, string>();
  if (!header) return found;
  for (const part of header.split(';')) {
    const match = OUR_COOKIE.exec(part.trim());
    if (match) found.set(Number(match[1]), match[2] as string);
  }
  return found;
}

/** Set-Cookie value; Secure (and so SameSite=None) only when the click came over HTTPS. */
export function offerCookie(offerId: number, transactionId: string, maxAgeDays: number, secure: boolean): string {
  const attributes = [`Max-Age=${maxAgeDays * 86_400}`, 'Path=/', 'HttpOnly', secure ? 'Secure; SameSite=None' : 'SameSite=Lax'];
  return `${COOKIE_PREFIX}${offerId}=${transactionId}; ${attributes.join('; ')}`;
}
