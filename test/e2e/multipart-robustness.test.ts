import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, tempDir, type TestServer } from '../support/api-server.js';
import { killServerProcesses, startServerProcess } from '../support/server-process.js';

/**
 * Multipart postbacks are open to anyone: whatever a body holds, it gets a 4xx and the server stays
 * up. The crash cases run against a server process, since a crash would take a test worker down.
 */

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const multipart = (body: string) => ({ method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body });

describe('a server process', () => {
  afterEach(killServerProcesses);

  it.each([
    ['a file part cut short (no closing boundary)', '--x\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nabc'],
    ['a last field with no name, longer than 4096 bytes', `--x\r\nContent-Disposition: form-data\r\n\r\n${'y'.repeat(5000)}\r\n--x--\r\n`],
  ])('answers a multipart postback with %s with a 400 and stays up', async (_what, body) => {
    const server = await startServerProcess({ DATA_DIR: tempDir(), SWITCHYARD_ADMIN_KEY: 'test-admin-key-0123456789' });
    const res = await fetch(`${server.url}/postback`, multipart(body)).catch((err: Error) => ({ status: `no answer: ${err.message}` }));
    await pause(300);
    expect(server.child.exitCode, server.output().slice(-1200)).toBeNull();
    expect(res.status).toBe(400);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  }, 30_000);
});

describe('a multipart part with no name', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => server?.close());

  it.each([
    ['a file', '--x\r\nContent-Disposition: form-data; filename="a.txt"\r\n\r\nabc\r\n--x--\r\n'],
    ['a short field', '--x\r\nContent-Disposition: form-data\r\n\r\nabc\r\n--x--\r\n'],
  ])('(%s) is a 400 validation_failed, not a 500 that asks the advertiser to retry', async (_what, body) => {
    const res = await fetch(`${server.url}/postback`, multipart(body));
    const answer = (await res.json()) as { error?: { code: string } };
    expect(res.status, JSON.stringify(answer)).toBe(400);
    expect(answer.error?.code).toBe('validation_failed');
  });
});
