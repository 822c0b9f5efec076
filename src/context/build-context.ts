import type { ClickContext, OfferCookieIds } from '../engine/context.js';
import { openGeoLookup, type GeoLookup } from './geo.js';
import { canonicalIp } from './ip-text.js';
import { primaryLanguage } from './language.js';
import { createUserAgentParser, type UserAgentParser } from './user-agent.js';

/** A click as the HTTP edge sees it, before parsing. */
export interface RawClick {
  transaction_id: string;
  time_ms: number;
  ip: string | null;
  user_agent: string | null;
  accept_language: string | null;
  /** The query string (already merged with the tracking link's default subs). */
  query: Readonly<Record<string, string | undefined>>;
  offer_cookies?: ReadonlyMap<number, OfferCookieIds>;
}

/** Query values longer than this are cut, and the click is still served (SPEC §4.1). */
export const MAX_QUERY_VALUE_LENGTH = 512;

/**
 * Longest user agent a click keeps (characters). Real ones are a few hundred characters; a request
 * header may be 64 KiB, and kept whole anyone with a tracking link stored ~60 kB per click (about
 * 100 times a click's usual row) in the database, its WAL, the click writer's queue and every
 * answer of the clicks API. Parsing still reads the whole header.
 */
export const MAX_USER_AGENT_LENGTH = 1024;

const NO_COOKIES: ReadonlyMap<number, OfferCookieIds> = new Map();

/**
 * The first MAX_QUERY_VALUE_LENGTH characters (code points) of a value. A cut by UTF-16 units
 * would count an emoji twice (the API accepts a 512-character default sub that the click then
 * shortened) and could split one, storing half a surrogate pair: invalid UTF-8 in the database.
 */
function cutToCharacters(value: string, limit = MAX_QUERY_VALUE_LENGTH): string {
  // Fewer units than the limit means fewer characters too: the common case allocates nothing.
  if (value.length <= limit) return value;
  let units = 0;
  let characters = 0;
  for (const character of value) {
    if (characters === limit) return value.slice(0, units);
    units += character.length;
    characters++;
  }
  return value;
}

export interface ContextBuilder {
  build(raw: RawClick): ClickContext;
}

export function createContextBuilder(deps: { userAgents: UserAgentParser; geo: GeoLookup }): ContextBuilder {
  return {
    build(raw) {
      const param = (name: string): string | null => {
        const value = raw.query[name];
        return value === undefined || value === '' ? null : cutToCharacters(value);
      };
      const { is_bot: isBot, ...device } = deps.userAgents.parse(raw.user_agent);
      const ip = canonicalIp(raw.ip);
      return {
        transaction_id: raw.transaction_id,
        time_ms: raw.time_ms,
        ip,
        user_agent: raw.user_agent === null ? null : cutToCharacters(raw.user_agent, MAX_USER_AGENT_LENGTH),
        device: { ...device, language: primaryLanguage(raw.accept_language) },
        is_bot: isBot,
        geo: deps.geo.lookup(ip),
        sub1: param('sub1'),
        sub2: param('sub2'),
        sub3: param('sub3'),
        sub4: param('sub4'),
        sub5: param('sub5'),
        source_id: param('source_id'),
        // Not cut like the other values: a deep link is used whole or not at all (see checkDeepLink).
        deep_link: raw.query.url || null,
        idfa: param('idfa'),
        gaid: param('gaid'),
        offer_cookies: raw.offer_cookies ?? NO_COOKIES,
      };
    },
  };
}

/** Opens the geo databases and makes a builder with a fresh user-agent cache (startup only). */
export async function openContextBuilder(options: { cityDbPath?: string | undefined; userAgentCacheSize?: number } = {}): Promise<ContextBuilder> {
  const geo = await openGeoLookup({ cityDbPath: options.cityDbPath });
  return createContextBuilder({ userAgents: createUserAgentParser(options.userAgentCacheSize), geo });
}
