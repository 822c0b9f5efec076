import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SafeHttpClient, USER_AGENT, type ResolvedAddress } from '../../src/outbound/index.js';
import { answer, startReceiver, type Receiver } from '../support/postback-receiver.js';

/**
 * The SSRF-safe client against a real HTTP receiver on 127.0.0.1. Refusals are asserted to happen
 * before any connection: the receiver must not see a request.
 */

let receiver: Receiver;
let internal: Receiver;

beforeEach(async () => {
  receiver = await startReceiver();
  // Stands for a service inside the network that a postback must never reach.
  internal = await startReceiver();
});
afterEach(async () => {
  await receiver.close();
  await internal.close();
});

const testClient = () => new SafeHttpClient({ allowLoopback: true });

describe('SafeHttpClient delivers', () => {
  it('GETs the exact path and query, with the fixed User-Agent and no cookie', async () => {
    const path = '/pb?conversion_id=42&payout=1.50&sub1=a%20b&click=abc123';
    const result = await testClient().get(`${receiver.origin}${path}`);
    expect(result).toEqual({ ok: true, status: 200 });
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]).toMatchObject({ method: 'GET', url: path });
    expect(receiver.requests[0]?.headers['user-agent']).toBe(USER_AGENT);
    expect(receiver.requests[0]?.headers.cookie).toBeUndefined();
  });

  it.each([
    [200, { ok: true, status: 200 }],
    [204, { ok: true, status: 204 }],
    [500, { ok: false, retryable: true, status: 500 }],
    [503, { ok: false, retryable: true, status: 503 }],
    [408, { ok: false, retryable: true, status: 408 }],
    [429, { ok: false, retryable: true, status: 429 }],
    [400, { ok: false, retryable: false, status: 400 }],
    [404, { ok: false, retryable: false, status: 404 }],
    [410, { ok: false, retryable: false, status: 410 }],
  ])('an answer %i is reported as %o', async (status, expected) => {
    receiver.reply = answer(status);
    expect(await testClient().get(`${receiver.origin}/`)).toMatchObject(expected);
  });

  it('follows up to 3 redirects, relative ones included, and sends no cookie a hop set', async () => {
    receiver.reply = (_req, res, index) => {
      if (index < 3) {
        res.writeHead(302, { location: `/hop${index + 1}?keep=1`, 'set-cookie': 'session=secret' });
        res.end();
      } else res.end('done');
    };
    expect(await testClient().get(`${receiver.origin}/start`)).toEqual({ ok: true, status: 200 });
    expect(receiver.requests.map((r) => r.url)).toEqual(['/start', '/hop1?keep=1', '/hop2?keep=1', '/hop3?keep=1']);
    expect(receiver.requests.every((r) => r.headers.cookie === undefined)).toBe(true);
  });

  it('sends the URL\'s user and password as Basic authorization, decoded, and a bare "%" as written', async () => {
    const basic = (userinfo: string) => `Basic ${Buffer.from(userinfo).toString('base64')}`;
    const host = receiver.origin.slice('http://'.length);
    expect(await testClient().get(`http://us%40er:p%3Aw@${host}/a`)).toEqual({ ok: true, status: 200 });
    expect(await testClient().get(`http://user:100%zz@${host}/b`)).toEqual({ ok: true, status: 200 });
    expect(receiver.requests.map((r) => r.headers.authorization)).toEqual([basic('us@er:p:w'), basic('user:100%zz')]);
  });

  it('sends a password given without a user name as Basic authorization too (":password"), as curl does', async () => {
    const host = receiver.origin.slice('http://'.length);
    expect(await testClient().get(`http://:t0ken@${host}/a`)).toEqual({ ok: true, status: 200 });
    expect(receiver.requests[0]?.headers.authorization).toBe(`Basic ${Buffer.from(':t0ken').toString('base64')}`);
  });

  it('a fourth redirect is a permanent failure', async () => {
    receiver.reply = (_req, res, index) => {
      res.writeHead(307, { location: `/loop${index}` });
      res.end();
    };
    expect(await testClient().get(`${receiver.origin}/`)).toEqual({ ok: false, error: 'more than 3 redirects', retryable: false });
    expect(receiver.requests).toHaveLength(4);
  });

  it('resolves a host name once and connects to the vetted address, keeping the name in Host', async () => {
    const lookups: string[] = [];
    const resolve = async (host: string): Promise<ResolvedAddress[]> => {
      lookups.push(host);
      return [{ address: '127.0.0.1', family: 4 }];
    };
    // "partner.invalid" cannot resolve in real DNS: the request can only arrive if the socket used
    // the vetted address instead of resolving the name again.
    const client = new SafeHttpClient({ allowLoopback: true, resolve });
    expect(await client.get(`http://partner.invalid:${receiver.port}/pb`)).toEqual({ ok: true, status: 200 });
    expect(lookups).toEqual(['partner.invalid']);
    expect(receiver.requests[0]?.headers.host).toBe(`partner.invalid:${receiver.port}`);
  });

  it('when the first vetted address refuses the connection, tries the next vetted one instead of failing the delivery', async () => {
    // A partner host with several addresses (a second A record, or a broken IPv6 path beside a
    // working IPv4 one): every answer is vetted, so any of them may be dialled, as any HTTP client
    // would. Nothing listens on 127.0.0.2 (the receiver is bound to 127.0.0.1 only).
    const resolve = async (): Promise<ResolvedAddress[]> => [
      { address: '127.0.0.2', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ];
    const client = new SafeHttpClient({ allowLoopback: true, resolve });
    expect(await client.get(`http://partner.invalid:${receiver.port}/pb`)).toEqual({ ok: true, status: 200 });
    expect(receiver.requests).toHaveLength(1);
  });

  it('never dials an address that was not vetted, even with several answers', async () => {
    const resolve = async (): Promise<ResolvedAddress[]> => [
      { address: '127.0.0.2', family: 4 },
      { address: '10.0.0.1', family: 4 },
    ];
    const client = new SafeHttpClient({ allowLoopback: true, resolve });
    expect(await client.get(`http://partner.invalid:${receiver.port}/pb`)).toMatchObject({ ok: false, retryable: false });
  });

  it('stops reading a body at the limit and still reports the status', async () => {
    receiver.reply = (_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(16 * 1024, 120);
      const pump = () => {
        while (res.write(chunk)) if (res.destroyed) return;
        res.once('drain', pump);
      };
      res.on('error', () => undefined);
      pump();
    };
    const client = new SafeHttpClient({ allowLoopback: true, maxBodyBytes: 64 * 1024, totalTimeoutMs: 5_000 });
    expect(await client.get(`${receiver.origin}/endless`)).toEqual({ ok: true, status: 200 });
  });

  it('a receiver that never answers times out as a retryable failure', async () => {
    receiver.reply = () => undefined;
    const client = new SafeHttpClient({ allowLoopback: true, totalTimeoutMs: 300 });
    expect(await client.get(`${receiver.origin}/`)).toEqual({ ok: false, error: 'timed out after 300 ms', retryable: true });
  });

  it('a refused connection is a retryable failure', async () => {
    const closedPort = internal.port;
    await internal.close();
    const result = await testClient().get(`http://127.0.0.1:${closedPort}/`);
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect(result.ok === false && result.error).toMatch(/ECONNREFUSED/);
  });

  it('when every vetted address refuses, the error names each address, as it names the one of a single-address host', async () => {
    const closedPort = internal.port;
    await internal.close();
    const resolve = async (): Promise<ResolvedAddress[]> => [
      { address: '127.0.0.2', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ];
    const result = await new SafeHttpClient({ allowLoopback: true, resolve }).get(`http://partner.invalid:${closedPort}/pb`);
    expect(result).toMatchObject({ ok: false, retryable: true });
    // The operator reads this as the postback's last_error: "ECONNREFUSED: " alone says nothing of where.
    expect(result.ok === false && result.error).toContain(`127.0.0.2:${closedPort}`);
    expect(result.ok === false && result.error).toContain(`127.0.0.1:${closedPort}`);
  });
});

describe('SafeHttpClient refuses private targets', () => {
  const PRIVATE_TARGETS = (port: number) => [
    `http://127.0.0.1:${port}/`,
    `http://10.0.0.1:${port}/`,
    `http://169.254.169.254/latest/meta-data/`,
    `http://[::1]:${port}/`,
    `http://[::ffff:127.0.0.1]:${port}/`,
    `http://[::ffff:7f00:1]:${port}/`,
    `http://2130706433:${port}/`,
    `http://0x7f.1:${port}/`,
    `http://0177.0.0.1:${port}/`,
    `http://127.1:${port}/`,
    `http://0.0.0.0:${port}/`,
    `http://localhost:${port}/`,
    `https://localhost:${port}/`,
    `http://[fd00:ec2::254]/latest/meta-data/`,
    `http://[64:ff9b::7f00:1]:${port}/`,
    `http://[2002:7f00:1::]:${port}/`,
    `http://100.64.0.1/`,
    `http://192.168.0.1/`,
  ];

  it('with the loopback switch off, each private target is refused, permanently, before connecting', async () => {
    const client = new SafeHttpClient();
    for (const url of PRIVATE_TARGETS(receiver.port)) {
      const result = await client.get(url);
      expect(result, url).toMatchObject({ ok: false, retryable: false });
      expect(result.ok === false && result.error, url).toMatch(/^refused address /);
    }
    expect(receiver.requests).toHaveLength(0);
  });

  it('the loopback switch widens nothing but loopback', async () => {
    const client = testClient();
    for (const url of [
      'http://10.0.0.1/', 'http://169.254.169.254/', 'http://[fd00:ec2::254]/', 'http://100.64.0.1/',
      `http://[64:ff9b::7f00:1]:${receiver.port}/`, `http://[2002:7f00:1::]:${receiver.port}/`, `http://0.0.0.0:${receiver.port}/`,
    ]) {
      expect(await client.get(url), url).toMatchObject({ ok: false, retryable: false });
    }
    expect(receiver.requests).toHaveLength(0);
  });

  it('a name with any private address among its answers is refused, even beside public ones', async () => {
    const resolve = async (): Promise<ResolvedAddress[]> => [
      { address: '93.184.216.34', family: 4 },
      { address: '10.1.2.3', family: 4 },
    ];
    const result = await new SafeHttpClient({ resolve }).get('http://mixed.example/');
    expect(result).toEqual({ ok: false, error: 'refused address 10.1.2.3: private (mixed.example)', retryable: false });
  });

  it.each(['ftp://8.8.8.8/', 'file:///etc/passwd', 'gopher://8.8.8.8:70/', 'not a url'])('%s is refused', async (url) => {
    expect(await new SafeHttpClient().get(url)).toMatchObject({ ok: false, retryable: false });
  });
});

describe('SafeHttpClient re-checks every redirect hop', () => {
  // The receiver runs on loopback, so the first hop needs the test switch; the per-hop form of the
  // switch admits loopback on hop 0 only, so any later hop sees the production policy.
  const firstHopOnly = () => new SafeHttpClient({ allowLoopback: (hop) => hop === 0 });

  it.each([
    ['a loopback address', (port: number) => `http://127.0.0.1:${port}/secret`],
    ['a name resolving to loopback', (port: number) => `http://localhost:${port}/secret`],
    ['an IPv4-mapped loopback address', (port: number) => `http://[::ffff:7f00:1]:${port}/secret`],
    ['a decimal loopback address', (port: number) => `http://2130706433:${port}/secret`],
  ])('a redirect to %s is refused and never connected to', async (_name, target) => {
    receiver.reply = answer(302, target(internal.port));
    const result = await firstHopOnly().get(`${receiver.origin}/pb`);
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(result.ok === false && result.error).toMatch(/^refused address /);
    expect(receiver.requests).toHaveLength(1);
    expect(internal.requests).toHaveLength(0);
  });

  it('a redirect to the metadata service is refused even with the loopback switch on', async () => {
    receiver.reply = answer(301, 'http://169.254.169.254/latest/meta-data/');
    const result = await testClient().get(`${receiver.origin}/pb`);
    expect(result).toEqual({ ok: false, error: 'refused address 169.254.169.254: metadata', retryable: false });
  });

  it('a redirect to another scheme is refused', async () => {
    receiver.reply = answer(302, 'file:///etc/passwd');
    expect(await testClient().get(`${receiver.origin}/pb`)).toEqual({ ok: false, error: 'refused scheme file:', retryable: false });
  });
});
