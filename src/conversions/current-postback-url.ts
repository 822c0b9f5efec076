import type { ClaimedPostback } from '../ports/outbox.js';
import type { StoreTx } from '../ports/store.js';
import { postbackUrlPieces } from './postback-url.js';

/**
 * A queued partner postback's URL as the partner's postback URL reads now, filled for its conversion
 * as when it was queued (the same facts give the same URL); null when the partner no longer wants
 * postbacks. A partner who removes or corrects its URL while retries wait must not keep receiving
 * the old one for hours, nor miss the postbacks on the corrected one.
 */
export async function currentPostbackUrl(store: Pick<StoreTx, 'partners' | 'conversions' | 'clicks'>, postback: ClaimedPostback): Promise<string | null> {
  const partner = await store.partners.get(postback.partner_id);
  if (!partner?.postback_url) return null;
  const conversion = await store.conversions.get(postback.conversion_id);
  const click = conversion === undefined ? undefined : await store.clicks.get(conversion.transaction_id);
  if (conversion === undefined || click === undefined) return postback.url;
  const facts = { click, payoutMicros: conversion.payout_micros, eventId: conversion.event_id, timeMs: Date.parse(conversion.time) };
  return postbackUrlPieces(partner.postback_url, facts).join(String(conversion.id));
}
