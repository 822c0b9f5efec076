import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/api-server.js';
import { sendRaw } from '../support/raw-http.js';
import { create, oneOfferLink } from '../support/fixtures.js';
import { DATABASE_FILE } from '../../src/store/sqlite/index.js';

/**
 * Requests Node's HTTP parser gives up on only after their headers: an invalid Transfer-Encoding,
 * a broken chunked body, bytes after the request that are not HTTP. The route has already been
 * called when the parser fails, and the client gets the 400 of a request that is not valid HTTP
 * instead of its answer; whatever the route did must not stay stored (SPEC §1.5: a malformed
 * request gets a clear error and leaves stored data untouched). Raw sockets: fetch would never
 * send such a request.
 */

let server: TestServer;
let token: string;
let offerId: number;

beforeAll(async () => {
  server = await startServer();
  ({ offerId, token } = await oneOfferLink(server, { conversion_method: 'cookie' }));
});
afterAll(async () => server?.close());

function counts(): { clicks: number; conversions: number } {
  const db = new Database(path.join(server.dataDir, DATABASE_FILE), { readonly: true });
  try {
    const count = (table: string) => (db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
    return { clicks: count('clicks'), conversions: count('conversions') };
  } finally {
    db.close();
  }
}

const send = (bytes: string): Promise<string> => sendRaw(server.url, bytes);

/** A click, answered with a redirect, whose transaction id is returned (for a postback). */
async function click(): Promise<{ transactionId: string; cookie: string }> {
  const res = await fetch(`${server.url}/sl/${token}`, { redirect: 'manual' });
  expect(res.status).toBe(302);
  return { transactionId: /t=([0-9a-f]{32})/.exec(res.headers.get('location') ?? '')![1]!, cookie: res.headers.get('set-cookie')!.split(';')[0]! };
}

/** Settles the click writer: anything the malformed request queued is committed by then. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 200));

const notValidHttp = /^HTTP\/1\.1 400 [^\r]*\r\n[\s\S]*\r\n\r\n\{"error":\{"code":"validation_failed","message":"the request is not valid HTTP"\}\}$/;

describe('a request the HTTP parser refuses after its headers stores nothing', () => {
  const malformedClicks: [string, () => string][] = [
    ['an invalid Transfer-Encoding', () => `GET /sl/${token} HTTP/1.1\r\nHost: clicks.example.com\r\nTransfer-Encoding: gzip\r\n\r\n`],
    ['a chunked body that is not chunked', () => `GET /sl/${token} HTTP/1.1\r\nHost: clicks.example.com\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`],
    ['bytes that are not HTTP after the request', () => `GET /sl/${token} HTTP/1.1\r\nHost: clicks.example.com\r\n\r\nNOT HTTP\r\n\r\n`],
  ];

  it.each(malformedClicks)('a click with %s: 400, and no click stored or counted', async (_name, request) => {
    const before = counts();
    const answer = await send(request());
    await settle();
    expect(answer).toMatch(notValidHttp);
    expect(counts()).toEqual(before);
  });

  it('a postback GET with an invalid Transfer-Encoding: 400, and no conversion stored', async () => {
    const { transactionId } = await click();
    const before = counts();
    const answer = await send(`GET /postback?transaction_id=${transactionId} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n`);
    await settle();
    expect(answer).toMatch(notValidHttp);
    expect(counts()).toEqual(before);
    // The advertiser's retry, a valid request, converts.
    const retry = await fetch(`${server.url}/postback?transaction_id=${transactionId}`);
    expect(((await retry.json()) as { status: string }).status).toBe('approved');
  });

  it('a cookie pixel with an invalid Transfer-Encoding: no conversion stored', async () => {
    const { cookie } = await click();
    const before = counts();
    await send(`GET /pixel?offer_id=${offerId} HTTP/1.1\r\nHost: x\r\nCookie: ${cookie}\r\nTransfer-Encoding: gzip\r\n\r\n`);
    await settle();
    expect(counts()).toEqual(before);
  });

  it('an API write followed by bytes that are not HTTP: 400, and nothing created or deleted (a retry would do it twice)', async () => {
    const auth = 'Authorization: Bearer test-admin-key-0123456789\r\n';
    const names = async () => ((await server.call('GET', '/api/v1/advertisers?page_size=500')).body.data as { name: string }[]).map((a) => a.name);
    const doomed = await create(server, '/api/v1/advertisers', { name: 'Doomed' });
    const before = await names();
    const created = await send(`POST /api/v1/advertisers HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 18\r\n\r\n{"name":"Created"}NOT HTTP\r\n\r\n`);
    const deleted = await send(`DELETE /api/v1/advertisers/${doomed.id} HTTP/1.1\r\nHost: x\r\n${auth}\r\nNOT HTTP\r\n\r\n`);
    await settle();
    expect(created).toMatch(notValidHttp);
    expect(deleted).toMatch(notValidHttp);
    expect(await names()).toEqual(before);
  });

  it('a valid request on the same connection is still served and stored', async () => {
    const before = counts();
    const answer = await send(`GET /sl/${token} HTTP/1.1\r\nHost: clicks.example.com\r\nConnection: close\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 302 /);
    expect(counts().clicks).toBe(before.clicks + 1);
  });
});
