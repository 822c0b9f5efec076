import type { ClickContext } from './context.js';
import { isVisitorMacroInHost } from '../domain/formats.js';

export const MACROS = [
  'transaction_id', 'offer_id', 'offer_url_id', 'advertiser_id', 'partner_id', 'affiliate_id', 'smart_link_id',
  'sub1', 'sub2', 'sub3', 'sub4', 'sub5', 'source_id', 'country', 'device_type', 'os', 'unique_click',
  'timestamp', 'date', 'idfa', 'gaid',
] as const;
export type MacroName = (typeof MACROS)[number];

const KNOWN: ReadonlySet<string> = new Set(MACROS);

/**
 * A destination URL split at its known macros: `literals` has one more element than `macros`.
 * Splitting once at snapshot time makes substitution a single concatenation per click, and makes
 * the one-pass rule structural: a substituted value is never scanned for macros again.
 */
export interface Template {
  readonly literals: readonly string[];
  readonly macros: readonly MacroName[];
}

/** Who the click went to: the identifiers the macros name. */
export interface MacroFacts {
  ctx: ClickContext;
  smartLinkId: number;
  partnerId: number;
  offerId: number | null;
  offerUrlId: number | null;
  advertiserId: number | null;
  isUnique: boolean;
}

/**
 * The fixed text of a URL template with everything outside printable ASCII percent-encoded (as
 * UTF-8, the way browsers encode what is typed into the address bar). The API accepts a URL such as
 * `https://shop.example/€uro`, but a `Location` header or an outbound request line cannot carry
 * those bytes: Node refuses to send the header, and the visitor got a 500 for a click already
 * stored. Control characters can only come from a URL edited behind the API's back; encoding them
 * keeps "no CR/LF in a Location header" true whatever the database holds.
 */
export const encodeLiteral = (text: string): string => text.replace(/[^\x21-\x7e]+/g, encodeValue);

export const isMacroName = (name: string): name is MacroName => KNOWN.has(name);

/**
 * `visitorHost`: fill the visitor's values in the host too. Only for a `url=` deep link, which is the
 * partner's own text and is checked against the offer's allow-list once filled in (deep-link.ts).
 */
export function compileTemplate(url: string, visitorHost = false): Template {
  const literals: string[] = [];
  const macros: MacroName[] = [];
  let last = 0;
  for (const match of url.matchAll(/\{([a-z0-9_]+)\}/g)) {
    const name = match[1] ?? '';
    if (!isMacroName(name)) continue; // unknown macros stay as written
    if (!visitorHost && isVisitorMacroInHost(url, name, match.index)) continue; // and so do the visitor's values in a stored host
    literals.push(encodeLiteral(url.slice(last, match.index)));
    macros.push(name);
    last = match.index + match[0].length;
  }
  literals.push(encodeLiteral(url.slice(last)));
  return { literals, macros };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** encodeURIComponent, except that it never throws: lone surrogates become U+FFFD first. */
export function encodeValue(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return encodeURIComponent(value.replace(LONE_SURROGATE, '\uFFFD'));
  }
}

const idText = (id: number | null): string => (id === null ? '' : String(id));

/** The text a known macro stands for in this click, before URL-encoding; empty when it has no value. */
export function macroValue(name: MacroName, facts: MacroFacts): string {
  const { ctx } = facts;
  switch (name) {
    case 'transaction_id': return ctx.transaction_id;
    case 'offer_id': return idText(facts.offerId);
    case 'offer_url_id': return idText(facts.offerUrlId);
    case 'advertiser_id': return idText(facts.advertiserId);
    case 'partner_id':
    case 'affiliate_id': return String(facts.partnerId);
    case 'smart_link_id': return String(facts.smartLinkId);
    case 'sub1':
    case 'sub2':
    case 'sub3':
    case 'sub4':
    case 'sub5':
    case 'source_id':
    case 'idfa':
    case 'gaid': return ctx[name] ?? '';
    case 'country': return ctx.geo.country ?? '';
    case 'device_type': return ctx.device.device_type ?? '';
    case 'os': return ctx.device.os ?? '';
    case 'unique_click': return facts.isUnique ? '1' : '0';
    case 'timestamp': return String(Math.floor(ctx.time_ms / 1000));
    case 'date': return new Date(ctx.time_ms).toISOString().slice(0, 10);
  }
}

/** Substitutes every known macro, URL-encoded; a known macro without a value becomes empty. */
export function renderTemplate(template: Template, facts: MacroFacts): string {
  return renderTemplateWithin(template, facts, Infinity) as string;
}

/**
 * renderTemplate, giving up (undefined) as soon as the result passes `maxLength` characters. A
 * visitor's deep link may repeat a macro of the visitor's own value a thousand times: filled in
 * whole, one click built megabytes of text only to refuse it as too long.
 */
export function renderTemplateWithin(template: Template, facts: MacroFacts, maxLength: number): string | undefined {
  let out = template.literals[0] ?? '';
  for (let i = 0; i < template.macros.length; i++) {
    if (out.length > maxLength) return undefined;
    const name = template.macros[i];
    if (name !== undefined) out += encodeValue(macroValue(name, facts));
    out += template.literals[i + 1] ?? '';
  }
  return out.length > maxLength ? undefined : out;
}
