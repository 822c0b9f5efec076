import type { DuplicateFilter } from '../domain/schemas/offer.js';
import type { ClickContext } from './context.js';

export type VisitorIdentifier = NonNullable<DuplicateFilter['identifier']>;

/**
 * The key that identifies "the same visitor" for an offer's duplicate and already-converted
 * memory, prefixed by its kind so an IP can never collide with a device id. Null when the click
 * does not carry that identifier: such a visitor cannot be recognised and counts as new.
 */
export function visitorKey(identifier: VisitorIdentifier, ctx: ClickContext, offerId: number): string | null {
  switch (identifier) {
    case 'cookie': {
      const cookie = ctx.offer_cookies.get(offerId);
      return cookie === undefined ? null : `cookie:${cookie}`;
    }
    case 'ip':
      return ctx.ip === null ? null : `ip:${ctx.ip}`;
    case 'ip_user_agent':
      return ctx.ip === null || ctx.user_agent === null ? null : `ip_ua:${ctx.ip} ${ctx.user_agent}`;
    case 'gaid':
      return ctx.gaid === null ? null : `gaid:${ctx.gaid.toLowerCase()}`;
    case 'idfa':
      return ctx.idfa === null ? null : `idfa:${ctx.idfa.toLowerCase()}`;
  }
}
