import type { ClickRecord } from '../domain/click.js';
import { isVisitorMacroInHost } from '../domain/formats.js';
import { microsToText } from '../domain/money.js';
import { encodeLiteral, encodeValue, isMacroName, macroValue, type MacroFacts } from '../engine/macros.js';

/** What a partner postback URL's macros (SPEC §10.4) are filled from. */
export interface PostbackFacts {
  click: ClickRecord;
  payoutMicros: number;
  eventId: string | null;
  /** When the conversion was recorded: `{timestamp}` and `{date}` report the conversion, not the click. */
  timeMs: number;
}

const CONVERSION_ID = 'conversion_id';

/** The click as the engine's macro facts, so postbacks fill click macros exactly as redirects do. */
function clickMacroFacts({ click, timeMs }: PostbackFacts): MacroFacts {
  return {
    ctx: {
      transaction_id: click.transaction_id,
      time_ms: timeMs,
      ip: click.ip,
      user_agent: click.user_agent,
      device: click.device,
      is_bot: click.device.device_type === 'bot',
      geo: { ...click.geo, time_zone: null },
      sub1: click.sub1,
      sub2: click.sub2,
      sub3: click.sub3,
      sub4: click.sub4,
      sub5: click.sub5,
      source_id: click.source_id,
      deep_link: null,
      idfa: click.idfa,
      gaid: click.gaid,
      offer_cookies: new Map(),
    },
    smartLinkId: click.smart_link_id,
    partnerId: click.partner_id,
    offerId: click.offer_id,
    offerUrlId: click.offer_url_id,
    advertiserId: click.advertiser_id,
    isUnique: click.is_unique,
  };
}

/** The value of a known macro, or undefined for a name that is not a macro (left as written). */
function postbackMacroValue(name: string, facts: PostbackFacts, click: MacroFacts): string | undefined {
  if (name === 'payout') return microsToText(facts.payoutMicros);
  if (name === 'event_id') return facts.eventId ?? '';
  return isMacroName(name) ? macroValue(name, click) : undefined;
}

/**
 * Expands a partner's postback URL in one pass: the click macros of SPEC §4.9 plus `payout` and
 * `event_id`, URL-encoded; unknown macros stay as written. `{conversion_id}` is not known until the
 * conversion is inserted, so the result is split where it stands: join the pieces with the id.
 */
export function postbackUrlPieces(url: string, facts: PostbackFacts): string[] {
  const click = clickMacroFacts(facts);
  const pieces: string[] = [];
  let current = '';
  let last = 0;
  for (const match of url.matchAll(/\{([a-z0-9_]+)\}/g)) {
    const name = match[1] ?? '';
    if (isVisitorMacroInHost(url, name, match.index)) continue;
    const value = name === CONVERSION_ID ? '' : postbackMacroValue(name, facts, click);
    if (value === undefined) continue;
    current += encodeLiteral(url.slice(last, match.index));
    if (name === CONVERSION_ID) {
      pieces.push(current);
      current = '';
    } else {
      current += encodeValue(value);
    }
    last = match.index + match[0].length;
  }
  pieces.push(current + encodeLiteral(url.slice(last)));
  return pieces;
}
