import type { ClickRecord } from '../domain/click.js';
import { microsToText } from '../domain/money.js';

/** What a partner postback URL's macros (SPEC §10.4) are filled from. */
export interface PostbackFacts {
  click: ClickRecord;
  payoutMicros: number;
  eventId: string | null;
  /** When the conversion was recorded: `{timestamp}` and `{date}` report the conversion, not the click. */
  timeMs: number;
}

const CONVERSION_ID = 'conversion_id';

// Control characters can only come from a stored URL edited behind the API's back; encoding them
// keeps the outbound request line free of CR/LF whatever the database holds.
const encodeControls = (text: string): string => text.replace(/[\u0000-\u001f\u007f]/g, (c) => encodeURIComponent(c));

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const encodeValue = (value: string): string => encodeURIComponent(value.replace(LONE_SURROGATE, '\uFFFD'));

const idText = (id: number | null): string => (id === null ? '' : String(id));

/** The value of a known macro, or undefined for a name that is not a macro (left as written). */
function macroValue(name: string, facts: PostbackFacts): string | undefined {
  const { click } = facts;
  switch (name) {
    case 'transaction_id': return click.transaction_id;
    case 'offer_id': return idText(click.offer_id);
    case 'offer_url_id': return idText(click.offer_url_id);
    case 'advertiser_id': return idText(click.advertiser_id);
    case 'partner_id':
    case 'affiliate_id': return String(click.partner_id);
    case 'smart_link_id': return String(click.smart_link_id);
    case 'sub1':
    case 'sub2':
    case 'sub3':
    case 'sub4':
    case 'sub5':
    case 'source_id': return click[name] ?? '';
    case 'country': return click.geo.country ?? '';
    case 'device_type': return click.device.device_type ?? '';
    case 'os': return click.device.os ?? '';
    case 'unique_click': return click.is_unique ? '1' : '0';
    case 'timestamp': return String(Math.floor(facts.timeMs / 1000));
    case 'date': return new Date(facts.timeMs).toISOString().slice(0, 10);
    // Clicks do not store advertising ids, so these known macros are empty here.
    case 'idfa':
    case 'gaid': return '';
    case 'payout': return microsToText(facts.payoutMicros);
    case 'event_id': return facts.eventId ?? '';
    default: return undefined;
  }
}

/**
 * Expands a partner's postback URL in one pass: the click macros of SPEC §4.9 plus `payout` and
 * `event_id`, URL-encoded; unknown macros stay as written. `{conversion_id}` is not known until the
 * conversion is inserted, so the result is split where it stands: join the pieces with the id.
 */
export function postbackUrlPieces(url: string, facts: PostbackFacts): string[] {
  const pieces: string[] = [];
  let current = '';
  let last = 0;
  for (const match of url.matchAll(/\{([a-z0-9_]+)\}/g)) {
    const name = match[1] ?? '';
    const value = name === CONVERSION_ID ? '' : macroValue(name, facts);
    if (value === undefined) continue;
    current += encodeControls(url.slice(last, match.index));
    if (name === CONVERSION_ID) {
      pieces.push(current);
      current = '';
    } else {
      current += encodeValue(value);
    }
    last = match.index + match[0].length;
  }
  pieces.push(current + encodeControls(url.slice(last)));
  return pieces;
}
