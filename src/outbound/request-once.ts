import http from 'node:http';
import https from 'node:https';
import { pinnedLookup, type ResolvedAddress } from './resolve.js';

export const USER_AGENT = 'Switchyard-Postback/1';

export interface HopAnswer {
  status: number;
  /** The raw `Location` header of a redirect answer. */
  location?: string;
}

export interface HopLimits {
  connectTimeoutMs: number;
  maxBodyBytes: number;
  signal: AbortSignal;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * A URL's user name or password as the partner meant it. The URL parser keeps a `%` that starts no
 * escape as written, and decoding it threw: every postback to such a URL failed and was retried
 * for hours. Text that is not valid percent-encoding is taken literally.
 */
function decodeUserinfo(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * One GET to `url`, connecting to one of `targets` (all already vetted, tried in order) whatever the
 * URL's host resolves to now. The URL's host still names the request (`Host` header, TLS SNI and certificate check). No
 * connection reuse, no cookies, no proxy; the body is read and dropped up to `maxBodyBytes`, then
 * the connection is cut: only the status matters.
 */
export function requestOnce(url: URL, targets: readonly ResolvedAddress[], limits: HopLimits): Promise<HopAnswer> {
  return new Promise<HopAnswer>((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    // A password alone (`https://:token@host/`) is credentials too: sent as ":token", as curl does.
    const auth = url.username || url.password ? `${decodeUserinfo(url.username)}:${decodeUserinfo(url.password)}` : undefined;
    const req = (secure ? https : http).request({
      method: 'GET',
      hostname,
      port: url.port || (secure ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      headers: { 'user-agent': USER_AGENT, accept: '*/*', connection: 'close' },
      ...(auth ? { auth } : {}),
      agent: false,
      lookup: pinnedLookup(targets),
      signal: limits.signal,
    });
    let connectTimer: NodeJS.Timeout | undefined;
    // Once a status has arrived it is the answer, whatever happens to the body afterwards (cut at
    // the size limit, or by the deadline): a later error must not turn a 200 into a retry.
    let answered: number | undefined;
    req.on('socket', (socket) => {
      connectTimer = setTimeout(
        () => req.destroy(new Error(`connect timeout after ${limits.connectTimeoutMs} ms`)),
        limits.connectTimeoutMs,
      );
      socket.once('connect', () => clearTimeout(connectTimer));
    });
    req.on('error', (err) => {
      clearTimeout(connectTimer);
      if (answered === undefined) reject(err);
      else resolve({ status: answered });
    });
    req.on('response', (res) => {
      clearTimeout(connectTimer);
      const status = res.statusCode ?? 0;
      answered = status;
      const location = res.headers.location;
      if (REDIRECTS.has(status) && location) {
        res.destroy();
        resolve({ status, location });
        return;
      }
      // The status is the answer; the body is drained only so a well-behaved server sees a clean
      // close, and never beyond the limit (a hostile server could stream forever).
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > limits.maxBodyBytes) res.destroy();
      });
      res.on('error', () => undefined);
      res.on('close', () => resolve({ status }));
    });
    req.end();
  });
}
