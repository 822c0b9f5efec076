import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN_KEY, startServer, type TestServer } from '../support/api-server.js';

/**
 * JSON bodies are UTF-8 (RFC 8259 §8.1). One in another encoding (Windows PowerShell 5 sends a
 * string body as ISO-8859-1) was read as UTF-8 anyway, and what was not UTF-8 stored as U+FFFD:
 * corrupted data answered 201 (SPEC §1.5). It is refused with 400 and nothing is stored.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server?.close());

const post = (contentType: string, body: Buffer) =>
  fetch(`${server.url}/api/v1/advertisers`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': contentType }, body });
const names = async () => ((await server.call('GET', '/api/v1/advertisers?page_size=500')).body.data as { name: string }[]).map((a) => a.name);

it('a JSON body holding bytes that are not UTF-8, undeclared or in a charset no decoder knows, gets 400 and stores nothing', async () => {
  const before = await names();
  const unknown = await post('application/json; charset=x-klingon', Buffer.from('{"name":"Café"}', 'latin1'));
  expect(unknown.status).toBe(400);
  expect(((await unknown.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'validation_failed', message: expect.stringMatching(/x-klingon/) });
  const undeclared = await post('application/json', Buffer.from('{"name":"Café"}', 'latin1'));
  expect(undeclared.status).toBe(400);
  expect(((await undeclared.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'validation_failed', message: expect.stringMatching(/UTF-8/) });
  expect(await names()).toEqual(before);
  expect(before.some((name) => name.includes('\ufffd'))).toBe(false);
});

it('UTF-8 is stored as sent, declared or not, with or without a byte order mark, and a declared ISO-8859-1 is read as such', async () => {
  for (const [contentType, body] of [
    ['application/json', Buffer.from('{"name":"Café 1"}')],
    ['application/json; charset=utf-8', Buffer.from('{"name":"Café 2"}')],
    ['application/json; charset="UTF-8"', Buffer.from('{"name":"Café 3"}')],
    ['application/json', Buffer.from('\ufeff{"name":"Café 4"}')],
  ] as const) {
    const res = await post(contentType, body);
    expect(res.status, contentType).toBe(201);
  }
  // A declared single-byte charset is read in that charset, as older clients send it.
  expect((await post('application/json; charset=ISO-8859-1', Buffer.from('{"name":"Café 5"}', 'latin1'))).status).toBe(201);
  expect(await names()).toEqual(expect.arrayContaining(['Café 1', 'Café 2', 'Café 3', 'Café 4', 'Café 5']));
});

it('a UTF-8 body labelled US-ASCII or ISO-8859-1 is read as the UTF-8 it is: never stored as windows-1252 mojibake', async () => {
  // WHATWG maps the label us-ascii to windows-1252, which decodes every byte: a client that labels
  // its UTF-8 JSON us-ascii had "Café" stored as "CafÃ©" with 201, silently.
  for (const label of ['us-ascii', 'ASCII']) {
    const res = await post(`application/json; charset=${label}`, Buffer.from(`{"name":"Café ${label}"}`));
    expect(res.status, label).toBe(201);
    expect(((await res.json()) as { name: string }).name).toBe(`Café ${label}`);
  }
  // UTF-8 labelled ISO-8859-1 is UTF-8 all the same (RFC 8259: the label has no effect).
  const mislabelled = await post('application/json; charset=ISO-8859-1', Buffer.from('{"name":"Café mislabelled"}'));
  expect(((await mislabelled.json()) as { name: string }).name).toBe('Café mislabelled');
});
