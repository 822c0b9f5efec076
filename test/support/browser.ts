import http from 'node:http';

/**
 * A minimal browser cookie jar with the rule the cookie pixel depends on: a cookie set without a
 * Domain attribute is host-only, sent back only to the exact host that set it (RFC 6265 §5.3).
 * Our offer cookies never carry Domain, so other attributes (Path=/, Max-Age) need no handling here
 * beyond honouring an expiry of zero.
 */
export class CookieJar {
  private readonly byHost = new Map<string, Map<string, string>>();

  store(host: string, setCookies: readonly string[]): void {
    const jar = this.byHost.get(host) ?? new Map<string, string>();
    for (const header of setCookies) {
      const [pair = '', ...attributes] = header.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      if (attributes.some((a) => /^\s*domain=/i.test(a))) throw new Error('this jar handles host-only cookies only');
      const expired = attributes.some((a) => /^\s*max-age=\s*(0|-\d+)\s*$/i.test(a));
      if (expired) jar.delete(pair.slice(0, eq).trim());
      else jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    this.byHost.set(host, jar);
  }

  header(host: string): string | undefined {
    const jar = this.byHost.get(host);
    if (!jar || jar.size === 0) return undefined;
    return [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

export interface BrowserAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * `GET path` as a browser on `hostname` would send it (its Host header and that host's cookies),
 * over a connection to the test server at `baseUrl`: several host names reach one server without
 * DNS. Set-Cookie answers go into the jar under `hostname` (cookies ignore ports). Redirects are
 * not followed.
 */
export function browserGet(baseUrl: string, hostname: string, path: string, jar: CookieJar): Promise<BrowserAnswer> {
  const target = new URL(path, baseUrl);
  const cookie = jar.header(hostname);
  const host = `${hostname}:${target.port}`;
  return new Promise((resolve, reject) => {
    const req = http.request(target, { method: 'GET', headers: { host, ...(cookie ? { cookie } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        jar.store(hostname, res.headers['set-cookie'] ?? []);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
