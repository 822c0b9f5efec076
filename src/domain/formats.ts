import net from 'node:net';

/**
 * String formats that JSON Schema does not know. Each is a pure predicate so the same rule
 * serves request validation, configuration checks and tests.
 */

const MACRO = /\{[a-z0-9_]+\}/gi;

/**
 * Macros whose value the visitor writes into the tracking URL. In a URL's host they would let anyone
 * send visitors (or a partner postback) wherever they like: `https://{sub1}/` with `sub1=evil.example`
 * is an open redirect on the network's own tracking domain. A partner postback's `{event_id}` is free
 * text from the conversion, which the visitor's browser sends itself with the cookie pixel (and anyone
 * who saw the transaction id, with a server postback for an offer without a secret); its `{payout}`
 * follows the conversion's `amount` on a percent payout, and a number is a host (`12.5` is 12.0.0.5).
 */
const VISITOR_MACRO = /\{(?:sub[1-5]|source_id|idfa|gaid|event_id|payout)\}/i;

/**
 * Scheme, user info, host and port: everything before the path, query or fragment, as browsers and
 * Node's URL parser read an http(s) URL: `\\` counts as `/`, and the slashes after the scheme may be
 * missing altogether (`https:\\{sub1}/` and `https:{sub1}/` are both a host of {sub1}).
 */
const AUTHORITY = /^[^:/\\?#]*:[/\\]*[^/\\?#]*/;

/**
 * Whether a macro at `index` of a URL is one of the visitor's values standing in its host. The API
 * refuses such URLs, but a database written before that check may still hold one: filling it would
 * send the visitor (or a partner postback) wherever the visitor says, so it stays as written.
 */
export function isVisitorMacroInHost(url: string, name: string, index: number): boolean {
  return index < (AUTHORITY.exec(url)?.[0].length ?? 0) && VISITOR_MACRO.test(`{${name}}`);
}

/**
 * An absolute http(s) URL; `{macro}` placeholders are allowed anywhere a value may go, except that
 * the visitor's own values (subs, source, device ids) may not take part in choosing the host.
 */
export function isHttpUrl(value: string): boolean {
  if (value.length > 4096 || /[\s\u0000-\u001f\u007f]/.test(value)) return false;
  if (VISITOR_MACRO.test(AUTHORITY.exec(value)?.[0] ?? '')) return false;
  let url: URL;
  try {
    url = new URL(value.replace(MACRO, 'x'));
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
}

/** An IANA time-zone name that this runtime's ICU knows (e.g. `Europe/Berlin`, `UTC`). */
export function isTimeZone(value: string): boolean {
  if (value.length > 64 || value.length === 0) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** A DNS host name with an optional port, lower case, as a tracking domain is written. */
export function isHostWithPort(value: string): boolean {
  const match = /^([^:]+)(?::(\d{1,5}))?$/.exec(value);
  if (!match || match[1] === undefined) return false;
  if (match[2] !== undefined && Number(match[2]) > 65535) return false;
  const host = match[1];
  if (host.length > 253) return false;
  return net.isIP(host) === 4 || host.split('.').every((label) => HOST_LABEL.test(label));
}

/** An IPv4 or IPv6 network in CIDR notation, or a single address. */
export function isCidr(value: string): boolean {
  const [address, prefix, ...rest] = value.split('/');
  if (address === undefined || rest.length > 0) return false;
  const family = net.isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  // An IPv4-mapped network is an IPv4 one, so its prefix covers at least the 96 mapping bits.
  if (family === 6 && Number(prefix) < 96 && isIpv4Mapped(address)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** Whether an IPv6 address is IPv4-mapped, in any notation (the URL parser writes it one way). */
function isIpv4Mapped(address: string): boolean {
  const bare = address.split('%')[0] ?? '';
  return /^\[::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}\]$/.test(new URL(`http://[${bare}]`).hostname);
}

/** A dotted version such as `14`, `14.2` or `10.0.19045`. */
export function isVersion(value: string): boolean {
  return /^\d{1,6}(\.\d{1,6}){0,3}$/.test(value);
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * The instants stored times can name: years 0001 to 9999 in UTC. Times are stored and compared as
 * ISO text, and past them that text changes shape (`+010000-…`, which sorts before every stored
 * time): 9999-12-31T23:00:00-05:00, a far-future bound, matched nothing as `to` and everything as `from`.
 */
const FIRST_STORED_MS = Date.parse('0001-01-01T00:00:00.000Z');
const LAST_STORED_MS = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * An ISO 8601 date-time with an explicit offset (`Z` or `±hh:mm`), whose date and hour exist:
 * Date.parse rolls 2024-02-30 over to 1 March and 24:00 to the next day, and reads a value without
 * an offset in the server's own zone; and within the years stored times can name.
 */
export function isDateTime(value: string): boolean {
  if (!DATE_TIME.test(value)) return false;
  const [year, month, day, hour] = [value.slice(0, 4), value.slice(5, 7), value.slice(8, 10), value.slice(11, 13)].map(Number) as [number, number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const ms = Date.parse(value);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && hour <= 23 && ms >= FIRST_STORED_MS && ms <= LAST_STORED_MS;
}

export const customFormats: Readonly<Record<string, (value: string) => boolean>> = {
  'date-time': isDateTime,
  'http-url': isHttpUrl,
  'iana-timezone': isTimeZone,
  'host-port': isHostWithPort,
  cidr: isCidr,
  version: isVersion,
};

/**
 * What a value of each `pattern` in a request schema must look like, in the words an error message
 * gives a user: Ajv's own `must match pattern "^\\d{1,15}(\\.\\d{1,4}0{0,20})?$"` left an operator
 * reading a regular expression to learn that an amount has at most four decimals. Keyed by the
 * pattern as the schemas write it; test/api/bad-input.test.ts checks every pattern has one.
 */
export const PATTERN_HINTS: Readonly<Record<string, string>> = {
  '^[0-9a-f]{32}$': 'must be a transaction id: 32 lower-case hex characters (0-9, a-f)',
  '^\\d{1,15}(\\.\\d{1,4}0{0,20})?$': 'must be a non-negative amount with at most 4 decimal places and no sign or exponent, e.g. 19.99',
  '^[A-Z]{3}$': 'must be an ISO 4217 currency code in capitals, e.g. USD',
  '^(\\*\\.)?[a-z0-9.-]{1,253}$': 'must be a lower-case host name, or *. and one for its subdomains, e.g. shop.example.com or *.example.com',
  '^(?:[01]\\d|2[0-3]):[0-5]\\d$|^24:00$': 'must be a time HH:MM from 00:00 to 24:00, e.g. 09:00',
  '^[1-9]\\d{0,14}$': 'must be a positive whole number, e.g. 12',
};

/** What a value of each format must look like, in the words an error message gives a user. */
export const FORMAT_HINTS: Readonly<Record<string, string>> = {
  'date-time': 'must be a date-time with a time zone, e.g. 2026-03-07T12:00:00Z, in the years 0001–9999 in UTC',
  'http-url': 'must be an absolute http or https URL without spaces or control characters (percent-encode them), with no {sub1}–{sub5}, {source_id}, {idfa}, {gaid}, {event_id} or {payout} in its host',
  'iana-timezone': 'must be an IANA time zone, e.g. Europe/Berlin',
  'host-port': 'must be a lower-case host name, optionally with :port, e.g. clicks.example.com',
  cidr: 'must be an IPv4 or IPv6 address or CIDR network',
  version: 'must be a version such as 14 or 14.2.1',
};
