import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, startServer, type TestServer } from '../support/api-server.js';

/** Sends the start of a request and never the rest; resolves with what the server answered once it closed the connection. */
function trickle(url: string, head: string): Promise<{ answer: string; afterMs: number }> {
  const { hostname, port } = new URL(url);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(head));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve({ answer, afterMs: Date.now() - started }));
  });
}

describe('a client that never finishes its request', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { REQUEST_TIMEOUT_MS: '500' } });
  });
  afterAll(() => server.close());

  it('gets 408 and loses its connection once REQUEST_TIMEOUT_MS has passed, instead of holding it open', async () => {
    const head = `POST /api/v1/advertisers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_KEY}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":`;
    const { answer, afterMs } = await trickle(server.url, head);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(afterMs).toBeGreaterThanOrEqual(400);
    const listed = await server.call<{ data: unknown[] }>('GET', '/api/v1/advertisers');
    expect(listed.body.data).toEqual([]);
  });

  it('still serves a request that arrives whole', async () => {
    const created = await server.call('POST', '/api/v1/advertisers', { name: 'Quick' });
    expect(created.status).toBe(201);
  });
});
