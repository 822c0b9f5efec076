/** What the click path sends back: status, headers and body, decided without touching the socket. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type RedirectMode = 'standard' | 'single_meta_refresh' | 'double_meta_refresh';

const BASE_HEADERS = {
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
} as const;

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);
}

/**
 * Only absolute http(s) URLs without control characters may leave as a redirect: anything else
 * could split a header or run script from a meta refresh.
 */
export function isSafeDestination(url: string): boolean {
  // Only printable ASCII can go into a Location header; templates encode the rest, this is the last guard.
  if (/[^\x21-\x7e]/.test(url)) return false;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:';
  } catch {
    return false;
  }
}

function metaRefresh(url: string): Answer {
  const target = escapeHtml(url);
  return {
    status: 200,
    headers: { ...BASE_HEADERS, 'content-type': 'text/html; charset=utf-8' },
    body: `<!doctype html><html><head><meta name="referrer" content="no-referrer"><meta http-equiv="refresh" content="0;url=${target}"></head><body><a href="${target}">Continue</a></body></html>`,
  };
}

function blankPage(): Answer {
  return { status: 200, headers: { ...BASE_HEADERS, 'content-type': 'text/html; charset=utf-8' }, body: '' };
}

export function notFound(): Answer {
  return { status: 404, headers: { ...BASE_HEADERS, 'content-type': 'text/plain; charset=utf-8' }, body: 'Not found' };
}

/**
 * Sends the visitor to `destination` the way the offer asks. `bounceUrl` is the signed
 * same-host hop a double meta refresh goes through first; an unsafe destination gives a blank page.
 */
export function redirectTo(destination: string | null, mode: RedirectMode, bounceUrl: (to: string) => string): Answer {
  if (destination === null || !isSafeDestination(destination)) return blankPage();
  switch (mode) {
    case 'standard':
      return { status: 302, headers: { ...BASE_HEADERS, location: destination }, body: '' };
    case 'single_meta_refresh':
      return metaRefresh(destination);
    case 'double_meta_refresh':
      return metaRefresh(bounceUrl(destination));
  }
}

/** The second page of a double meta refresh. */
export function bouncePage(destination: string): Answer {
  return isSafeDestination(destination) ? metaRefresh(destination) : blankPage();
}
