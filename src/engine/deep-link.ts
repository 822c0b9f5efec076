import type { DeepLink } from '../domain/schemas/offer.js';

/** An offer's deep-link allow-list, compiled: exact hosts and `*.suffix` patterns. */
export interface DeepLinkPolicy {
  readonly enabled: boolean;
  readonly hosts: ReadonlySet<string>;
  /** Stored with their leading dot (`.example.com`), so `*.example.com` does not match `example.com`. */
  readonly suffixes: readonly string[];
}

export function compileDeepLinkPolicy(deepLink: DeepLink | undefined): DeepLinkPolicy {
  const patterns = (deepLink?.allowed_hosts ?? []).map((host) => host.toLowerCase());
  return {
    enabled: deepLink?.enabled ?? false,
    hosts: new Set(patterns.filter((p) => !p.startsWith('*.'))),
    suffixes: patterns.filter((p) => p.startsWith('*.')).map((p) => p.slice(1)),
  };
}

export type DeepLinkVerdict = { ok: true; url: string } | { ok: false; why: string };

/** Longer deep links are refused rather than cut: a cut one would land the visitor on a broken page. */
export const MAX_DEEP_LINK_LENGTH = 8192;

/**
 * Whether a visitor-supplied `url=` may replace the offer's destination (SPEC §4.9), and what it
 * becomes. Its macros are filled in by `render` first, as in any destination (a deep link that
 * carries `{transaction_id}` is how the advertiser learns the click); `render` gives undefined for
 * a result longer than the limit it is passed. The result must parse, be
 * http(s) and name an allowed host, so no macro value can move it elsewhere. It is returned
 * re-serialised by the URL parser.
 */
export function checkDeepLink(
  policy: DeepLinkPolicy,
  requested: string,
  render: (template: string, maxLength: number) => string | undefined,
): DeepLinkVerdict {
  if (!policy.enabled) return { ok: false, why: 'the offer does not allow deep links' };
  if (requested.length > MAX_DEEP_LINK_LENGTH) return { ok: false, why: `the deep link is longer than ${MAX_DEEP_LINK_LENGTH} characters` };
  // Whitespace and control characters are refused outright rather than left to the URL parser,
  // which would silently strip some of them.
  if (/[\s\u0000-\u001f\u007f]/.test(requested)) return { ok: false, why: 'the deep link contains control characters or spaces' };
  // Filled in, macros can make it far longer than it was sent (a value repeats with its macro):
  // the filling stops (undefined) once past the limit.
  const rendered = render(requested, MAX_DEEP_LINK_LENGTH);
  if (rendered === undefined) return { ok: false, why: `the deep link is longer than ${MAX_DEEP_LINK_LENGTH} characters once its macros are filled in` };
  let url: URL;
  try {
    url = new URL(rendered);
  } catch {
    return { ok: false, why: 'the deep link is not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, why: 'the deep link is not http(s)' };
  const host = url.hostname;
  if (policy.hosts.has(host) || policy.suffixes.some((suffix) => host.endsWith(suffix))) return { ok: true, url: url.href };
  return { ok: false, why: `host ${host} is not on the offer's deep-link allow-list` };
}
