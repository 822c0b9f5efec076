import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../support/api-server.js';
import { withClicksDb } from '../support/clicks.js';
import { callApi, killServerProcesses, startServerProcess } from '../support/server-process.js';

const ADMIN_KEY = 'drain-test-admin-key-0123';
afterEach(() => killServerProcesses());

/**
 * A keep-alive connection with a request in flight (its body half sent), so the server cannot
 * close it as idle; `finish(next)` sends the rest of the body and pipelines `next` behind it.
 */
async function busyConnection(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  let received = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
  await once(socket, 'connect');
  const body = JSON.stringify({ name: 'Held while draining' });
  const head = `POST /api/v1/advertisers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
  socket.write(head + body.slice(0, 5));
  return {
    async finish(next: string): Promise<string> {
      const closed = once(socket, 'close');
      socket.write(body.slice(5) + next);
      await closed;
      return received;
    },
  };
}

/** The responses on one connection, in order: status line, headers, body. */
function responses(raw: string): { status: number; headers: string; body: string }[] {
  const found: { status: number; headers: string; body: string }[] = [];
  let rest = raw;
  while (rest.startsWith('HTTP/1.1 ')) {
    const end = rest.indexOf('\r\n\r\n');
    const headers = rest.slice(0, end);
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(headers)?.[1] ?? 0);
    found.push({ status: Number(headers.slice(9, 12)), headers, body: rest.slice(end + 4, end + 4 + length) });
    rest = rest.slice(end + 4 + length);
  }
  return found;
}

describe('SIGTERM drain', () => {
  it('a click that arrives on a connection still open while the server drains is served and stored, not refused with a framework 503; /readyz says unready', async () => {
    const dataDir = tempDir();
    const proc = await startServerProcess({ DATA_DIR: dataDir, SWITCHYARD_ADMIN_KEY: ADMIN_KEY });
    const api = (method: string, route: string, body?: unknown) => callApi(proc.url, ADMIN_KEY, method, route, body);
    const advertiser = (await api('POST', '/api/v1/advertisers', { name: 'Drain Co' })).body;
    const offer = (await api('POST', '/api/v1/offers', { advertiser_id: advertiser.id, name: 'Drain', destination_url: 'https://drain.example/?tid={transaction_id}' })).body;
    const partner = (await api('POST', '/api/v1/partners', { name: 'Drain partner' })).body;
    const link = (await api('POST', '/api/v1/smart-links', { name: 'Drain link', entries: [{ offer_id: offer.id }] })).body;
    const token = (await api('POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: partner.id })).body.token as string;

    const port = Number(new URL(proc.url).port);
    const clicking = await busyConnection(port);
    const probing = await busyConnection(port);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const exit = proc.stop('SIGTERM');
    await proc.waitFor(/shutting down/);

    const [created, click] = responses(await clicking.finish(`GET /sl/${token} HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/8\r\n\r\n`));
    expect(created?.status).toBe(201);
    expect(click?.status, click?.headers).toBe(302);
    expect(click?.headers).toMatch(/\r\nconnection: close/i);
    const tid = /tid=([0-9a-f]+)/.exec(click?.headers ?? '')?.[1] ?? '';
    const [, ready] = responses(await probing.finish('GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(ready?.status).toBe(503);
    expect(JSON.parse(ready?.body ?? '{}')).toMatchObject({ status: 'unavailable' });

    expect(await exit).toEqual({ code: 0, signal: null });
    expect(withClicksDb(dataDir, (db) => db.prepare('select count(*) as n from clicks where transaction_id = ?').get(tid))).toEqual({ n: 1 });
  }, 30_000);
});
