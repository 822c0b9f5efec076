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

  it('answers a timed-out or malformed request with the API\'s error body, like every other error', async () => {
    const timedOut = await trickle(server.url, `POST /api/v1/advertisers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_KEY}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":`);
    expect(timedOut.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(timedOut.answer.split('\r\n\r\n')[1] ?? '')).toEqual({ error: { code: 'request_timeout', message: expect.stringMatching(/REQUEST_TIMEOUT_MS/) } });
    const hugeHeaders = await trickle(server.url, `GET /api/v1/advertisers HTTP/1.1\r\nHost: x\r\nX-Filler: ${'a'.repeat(70 * 1024)}\r\n\r\n`);
    expect(hugeHeaders.answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(hugeHeaders.answer.split('\r\n\r\n')[1] ?? '')).toMatchObject({ error: { code: 'validation_failed' } });
    const garbled = await trickle(server.url, 'NOT HTTP AT ALL\r\n\r\n');
    expect(garbled.answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(garbled.answer.split('\r\n\r\n')[1] ?? '')).toMatchObject({ error: { code: 'validation_failed' } });
  });

  it('still serves a request that arrives whole', async () => {
    const created = await server.call('POST', '/api/v1/advertisers', { name: 'Quick' });
    expect(created.status).toBe(201);
  });
});
