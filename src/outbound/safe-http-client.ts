import { isIP } from 'node:net';
import { refusalReason } from './address-policy.js';
import { requestOnce } from './request-once.js';
import { systemResolver, type ResolvedAddress, type Resolver } from './resolve.js';

/** The outcome of one delivery: `retryable` says whether trying again later could change it. */
export type GetResult =
  | { ok: true; status: number }
  | { ok: false; error: string; retryable: boolean; status?: number };

export interface SafeHttpClientOptions {
  /**
   * TEST ONLY (`POSTBACK_ALLOW_LOOPBACK=1`): also admit loopback addresses, so tests can run a
   * receiver on 127.0.0.1. Widens nothing else. The function form decides per hop (0 = the first
   * request, 1 = after the first redirect, ...), so a test can prove that redirects are re-checked.
   */
  allowLoopback?: boolean | ((hop: number) => boolean);
  /** How host names are resolved; the system resolver by default. */
  resolve?: Resolver;
  /** Per connection attempt. Default 5 s. */
  connectTimeoutMs?: number;
  /** For the whole delivery, redirects and name resolution included. Default 10 s. */
  totalTimeoutMs?: number;
  /** Redirects followed before giving up. Default 3. */
  maxRedirects?: number;
  /** Response body read before the connection is cut. Default 64 KiB. */
  maxBodyBytes?: number;
}

type Vetted = { ok: true; targets: ResolvedAddress[] } | { ok: false; error: string; retryable: boolean };

const refused = (error: string): { ok: false; error: string; retryable: false } => ({ ok: false, error, retryable: false });

/**
 * An HTTP(S) GET client that only talks to public addresses (SPEC §10.4): every hop's host is
 * resolved once, every answer is vetted, and the socket connects to the vetted address itself.
 * It never throws: every failure is a `GetResult`.
 */
export class SafeHttpClient {
  private readonly loopbackOnHop: (hop: number) => boolean;
  private readonly resolve: Resolver;
  private readonly connectTimeoutMs: number;
  private readonly totalTimeoutMs: number;
  private readonly maxRedirects: number;
  private readonly maxBodyBytes: number;

  constructor(options: SafeHttpClientOptions = {}) {
    const allow = options.allowLoopback ?? false;
    this.loopbackOnHop = typeof allow === 'function' ? allow : () => allow;
    this.resolve = options.resolve ?? systemResolver;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    this.totalTimeoutMs = options.totalTimeoutMs ?? 10_000;
    this.maxRedirects = options.maxRedirects ?? 3;
    this.maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  }

  /** GETs `rawUrl`, following at most `maxRedirects` redirects, each re-vetted. */
  async get(rawUrl: string, signal?: AbortSignal): Promise<GetResult> {
    const deadline = AbortSignal.timeout(this.totalTimeoutMs);
    const combined = signal ? AbortSignal.any([signal, deadline]) : deadline;
    let url = parseUrl(rawUrl);
    if (!url) return refused('invalid URL');
    for (let hop = 0; ; hop++) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return refused(`refused scheme ${url.protocol}`);
      let vetted: Vetted;
      let answer;
      try {
        vetted = await this.vet(url, hop, combined);
        if (!vetted.ok) return vetted;
        answer = await requestOnce(url, vetted.targets, {
          connectTimeoutMs: this.connectTimeoutMs, maxBodyBytes: this.maxBodyBytes, signal: combined,
        });
      } catch (err) {
        const reason = deadline.aborted ? `timed out after ${this.totalTimeoutMs} ms` : describe(err);
        return { ok: false, error: reason, retryable: true };
      }
      if (answer.location === undefined) return resultOf(answer.status);
      if (hop >= this.maxRedirects) return refused(`more than ${this.maxRedirects} redirects`);
      const next = parseUrl(answer.location, url);
      if (!next) return refused('redirect to an invalid URL');
      url = next;
    }
  }

  /** Resolves the hop's host (unless it is a literal) and admits it only if every answer is allowed. */
  private async vet(url: URL, hop: number, signal: AbortSignal): Promise<Vetted> {
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    if (!host) return refused('URL has no host');
    const literal = isIP(host);
    const answers = literal ? [{ address: host, family: literal as 4 | 6 }] : await abortable(this.resolve(host), signal);
    if (answers.length === 0) return { ok: false, error: `${host} resolved to no address`, retryable: true };
    // One bad answer refuses the host: which answer the connection would use is not ours to pick
    // safely, and a name mixing public and private addresses is itself suspicious.
    const allowLoopback = this.loopbackOnHop(hop);
    for (const answer of answers) {
      const reason = refusalReason(answer.address, allowLoopback);
      if (reason) return refused(literal ? reason : `${reason} (${host})`);
    }
    return { ok: true, targets: answers };
  }
}

function parseUrl(text: string, base?: URL): URL | undefined {
  try {
    // The WHATWG parser normalises hosts first: "2130706433", "0x7f.1" and "0177.1" all become
    // "127.0.0.1" here, so the literal check below sees the address that would be dialled.
    return new URL(text, base);
  } catch {
    return undefined;
  }
}

function resultOf(status: number): GetResult {
  if (status >= 200 && status < 300) return { ok: true, status };
  const retryable = status >= 500 || status === 408 || status === 429;
  return { ok: false, error: `HTTP ${status}`, retryable, status };
}

function describe(err: unknown): string {
  // Several vetted addresses that all failed: Node reports an AggregateError with an empty message
  // (its code is the first one's); each attempt's own error names its address.
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map(describe).join('; ');
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/** `dns.lookup` cannot be cancelled; this stops waiting for it once the delivery's deadline passes. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
