import path from 'node:path';
import { Ajv } from 'ajv';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/api-server.js';
import { clickTid, convertingOffer } from '../support/conversions.js';
import { create } from '../support/fixtures.js';
import { whileWriteLocked } from '../support/write-lock.js';
import { PARTNER_MINTED_LINKS_MAX } from '../../src/http/api/tracking-links.js';
import { DATABASE_FILE } from '../../src/store/sqlite/index.js';

/**
 * The OpenAPI document as the contract a generated client relies on: real answers are checked
 * against the schemas it documents for their status and content type.
 */

let server: TestServer;
let doc: any;
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });

beforeAll(async () => {
  server = await startServer({ env: { POSTBACK_CONCURRENCY: '0', BODY_LIMIT_BYTES: '2048' } });
  doc = (await server.call('GET', '/openapi.json')).body;
});
afterAll(async () => server?.close());

const operation = (method: string, path: string) => doc.paths?.[path]?.[method.toLowerCase()];

/** What is wrong with a real answer against the document; empty when it matches. */
function problems(method: string, path: string, res: { status: number; headers: Headers; body: unknown }): string[] {
  const where = `${method} ${path} → ${res.status}`;
  const documented = operation(method, path)?.responses?.[String(res.status)];
  if (!documented) return [`${where}: status not documented`];
  if (res.status === 204) return [];
  const type = (res.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
  const schema = documented.content?.[type]?.schema;
  if (!schema) return [`${where}: ${type} not documented`];
  if (type !== 'application/json' || ajv.validate(schema, res.body)) return [];
  return [`${where}: ${ajv.errorsText()}`];
}

describe('the OpenAPI document against real answers', () => {
  it('null values of closed sets are allowed by their schemas (a click without a deep link, a reset line)', async () => {
    const advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Acme' })).id;
    const partnerId = (await create(server, '/api/v1/partners', { name: 'P' })).id;
    const tid = await clickTid(server, (await convertingOffer(server, advertiserId, partnerId)).token);
    const click = await server.call('GET', `/api/v1/clicks/${tid}`);
    expect(click.body.deep_link).toBeNull();
    const offer = await create(server, '/api/v1/offers', { advertiser_id: advertiserId, name: 'k', destination_url: 'https://k.example/' });
    const link = await create(server, '/api/v1/smart-links', { name: 'kpi', routing: 'kpi', kpi: { metric: 'cvr' }, entries: [{ offer_id: offer.id }] });
    await server.call('POST', `/api/v1/smart-links/${link.id}/kpi/reset`);
    const runs = await server.call('GET', `/api/v1/smart-links/${link.id}/kpi/runs`);
    expect(runs.body.data[0]).toMatchObject({ kind: 'reset', phase: null });
    expect([...problems('GET', '/api/v1/clicks/{transaction_id}', click), ...problems('GET', '/api/v1/smart-links/{id}/kpi/runs', runs)]).toEqual([]);
  });

  it('money the server takes and answers (19.99, 0.3) is valid by the document, checked as JSON Schema validators check it', async () => {
    const advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Prices' })).id;
    const body = { advertiser_id: advertiserId, name: 'Priced', destination_url: 'https://p.example/', payout: { type: 'fixed', value: 19.99 }, revenue: { type: 'fixed', value: 0.3 } };
    const created = await server.call('POST', '/api/v1/offers', body);
    expect(created.status).toBe(201);
    expect(created.body.payout.value).toBe(19.99);
    // A generated client checks what it sends against the request schema, as the server does.
    const request = operation('post', '/api/v1/offers').requestBody.content['application/json'].schema;
    expect(ajv.validate(request, body) ? [] : [ajv.errorsText()]).toEqual([]);
    expect([...problems('POST', '/api/v1/offers', created), ...problems('GET', '/api/v1/offers/{id}', await server.call('GET', `/api/v1/offers/${created.body.id}`))]).toEqual([]);
    // The document was built (beforeAll) and its steps put in words; the server still holds money to four decimals.
    expect((await server.call('POST', '/api/v1/offers', { ...body, payout: { type: 'fixed', value: 19.99001 } })).status).toBe(400);
  });

  it('is an OpenAPI 3.0 document throughout: no schema carries a JSON Schema `examples` list, which 3.0 does not allow (day_parting\'s anyOf branches did)', () => {
    const lists: string[] = [];
    const visit = (node: unknown, at: string): void => {
      if (node === null || typeof node !== 'object') return;
      if (Array.isArray((node as { examples?: unknown }).examples)) lists.push(at);
      for (const [key, value] of Object.entries(node)) visit(value, `${at}/${key}`);
    };
    visit(doc, '');
    expect(lists).toEqual([]);
  });

  it('documents If-Match on every write that honours it', () => {
    const writes = [['patch', '/api/v1/offers/{id}'], ['delete', '/api/v1/offers/{id}'], ['patch', '/api/v1/smart-links/{id}'], ['put', '/api/v1/settings'], ['put', '/api/v1/offers/{id}/access/{partner_id}']];
    const missing = writes.filter(([method, path]) => !(operation(method ?? '', path ?? '')?.parameters ?? []).some((p: any) => p.in === 'header' && p.name.toLowerCase() === 'if-match'));
    expect(missing).toEqual([]);
  });

  it('documents the report filters', async () => {
    expect((await server.call('GET', '/api/v1/reports?group_by=offer&filter[offer]=1')).status).toBe(200);
    const filter = (operation('get', '/api/v1/reports').parameters as any[]).find((p) => p.name === 'filter');
    expect(filter).toMatchObject({ in: 'query', style: 'deepObject', explode: true });
    expect(Object.keys(filter.schema.properties)).toEqual(expect.arrayContaining(['offer', 'country', 'sub1']));
  });

  it('documents the statuses every management route can answer: 413 for a body too large, 400, 403, 429', async () => {
    const big = 'x'.repeat(4000);
    const partner = await create(server, '/api/v1/partners', { name: 'Suspended' });
    const key = (await server.call('POST', `/api/v1/partners/${partner.id}/api-keys`)).body.key;
    await server.call('PATCH', `/api/v1/partners/${partner.id}`, { status: 'suspended' });
    expect([
      ...problems('PUT', '/api/v1/settings', await server.call('PUT', '/api/v1/settings', { global_fail_redirect_url: `https://x.example/${big}` })),
      ...problems('POST', '/api/v1/smart-links/{id}/explain', await server.call('POST', '/api/v1/smart-links/1/explain', { partner_id: 1, user_agent: big })),
      ...problems('PUT', '/api/v1/offers/{id}/access/{partner_id}', await server.call('PUT', '/api/v1/offers/1/access/1', { state: 'approved', x: big })),
      ...problems('POST', '/postback', await server.call('POST', '/postback', { transaction_id: '0'.repeat(32), adv1: big }, { key: null })),
      ...problems('POST', '/api/v1/partners/{id}/api-keys', await server.call('POST', '/api/v1/partners/abc/api-keys')),
      ...problems('GET', '/api/v1/clicks/{transaction_id}', await server.call('GET', `/api/v1/clicks/${'0'.repeat(32)}`, undefined, { key })),
    ]).toEqual([]);
    const limited = await startServer({ env: { API_RATE_LIMIT_PER_MINUTE: '1' } });
    try {
      await limited.call('GET', '/api/v1/advertisers');
      const answer = await limited.call('GET', '/api/v1/advertisers');
      expect(answer.status).toBe(429);
      expect(problems('GET', '/api/v1/advertisers', answer)).toEqual([]);
    } finally {
      await limited.close();
    }
  });

  it('documents 413 on writes that take no body: the body is read (and limited) all the same', async () => {
    const big = { x: 'x'.repeat(4000) };
    const partner = await create(server, '/api/v1/partners', { name: 'Big body' });
    const writes: [string, string, string][] = [
      ['POST', '/api/v1/partners/{id}/api-keys', `/api/v1/partners/${partner.id}/api-keys`],
      ['DELETE', '/api/v1/partners/{id}/api-keys/{key_id}', `/api/v1/partners/${partner.id}/api-keys/999`],
      ['DELETE', '/api/v1/api-keys/{id}', '/api/v1/api-keys/999'],
      ['POST', '/api/v1/partner-postbacks/{id}/retry', '/api/v1/partner-postbacks/999/retry'],
      ['POST', '/api/v1/smart-links/{id}/kpi/reset', '/api/v1/smart-links/999/kpi/reset'],
    ];
    const answers = await Promise.all(writes.map(async ([method, , url]) => server.call(method, url, big)));
    expect(answers.map((res) => res.status)).toEqual(writes.map(() => 413));
    expect(writes.flatMap(([method, route], i) => problems(method, route, answers[i]!))).toEqual([]);
  });

  it("documents explain's parsed offer cookies (context.offer_cookies) read from its cookie field", async () => {
    const advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Cookies' })).id;
    const offer = await create(server, '/api/v1/offers', { advertiser_id: advertiserId, name: 'c', destination_url: 'https://c.example/' });
    const link = await create(server, '/api/v1/smart-links', { name: 'Cookies', entries: [{ offer_id: offer.id }] });
    const tid = 'a'.repeat(32);
    const explained = await server.call('POST', `/api/v1/smart-links/${link.id}/explain`, { partner_id: 1, cookie: `sy_o${offer.id}=${tid}; theme=dark` });
    expect(explained.body.context.offer_cookies).toEqual({ [offer.id]: { transaction_id: tid, visitor_id: tid } });
    const context = operation('post', '/api/v1/smart-links/{id}/explain').responses['200'].content['application/json'].schema.properties.context;
    expect(Object.keys(context.properties ?? {})).toContain('offer_cookies');
    expect(problems('POST', '/api/v1/smart-links/{id}/explain', explained)).toEqual([]);
  });

  it('documents the 409 a partner key gets past its tracking-link limit', async () => {
    const advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Limit' })).id;
    const offer = await create(server, '/api/v1/offers', { advertiser_id: advertiserId, name: 'l', destination_url: 'https://l.example/' });
    const link = await create(server, '/api/v1/smart-links', { name: 'Open', visible_to_partners: true, entries: [{ offer_id: offer.id }] });
    const partner = await create(server, '/api/v1/partners', { name: 'Minting' });
    const key = (await server.call('POST', `/api/v1/partners/${partner.id}/api-keys`)).body.key;
    const first = await server.call('POST', `/api/v1/smart-links/${link.id}/tracking-links`, {}, { key });
    const db = new Database(path.join(server.dataDir, DATABASE_FILE));
    db.prepare(`with recursive n(i) as (select 1 union all select i + 1 from n where i < ?)
      insert into tracking_links (token, smart_link_id, partner_id, data, created_at)
      select token || '-' || i, smart_link_id, partner_id, data, created_at from tracking_links, n where token = ?`).run(PARTNER_MINTED_LINKS_MAX - 1, first.body.token);
    db.close();
    const refused = await server.call('POST', `/api/v1/smart-links/${link.id}/tracking-links`, {}, { key });
    expect(refused.status).toBe(409);
    expect(problems('POST', '/api/v1/smart-links/{id}/tracking-links', refused)).toEqual([]);
  });

  it('documents 503 unavailable on writes, answered while another connection holds the write lock', async () => {
    const answers: [string, string, Awaited<ReturnType<typeof server.call>>][] = [];
    await whileWriteLocked(server.dataDir, async () => {
      answers.push(['POST', '/api/v1/advertisers', await server.call('POST', '/api/v1/advertisers', { name: 'Locked out' })]);
      answers.push(['PUT', '/api/v1/settings', await server.call('PUT', '/api/v1/settings', { global_fail_redirect_url: null })]);
    });
    expect(answers.map(([, , res]) => res.status)).toEqual([503, 503]);
    expect(answers.flatMap(([method, route, res]) => problems(method, route, res))).toEqual([]);
  });

  it('documents 503 unavailable on the server postback, answered while another connection holds the write lock', async () => {
    const advertiserId = (await create(server, '/api/v1/advertisers', { name: 'Locked postback' })).id;
    const partnerId = (await create(server, '/api/v1/partners', { name: 'Locked postback partner' })).id;
    const tid = await clickTid(server, (await convertingOffer(server, advertiserId, partnerId)).token);
    const answers = await whileWriteLocked(server.dataDir, async () => [
      await server.call('GET', `/postback?transaction_id=${tid}`, undefined, { key: null }),
      await server.call('POST', '/postback', { transaction_id: tid, event_id: 'e1' }, { key: null }),
    ]);
    expect(answers.map((res) => res.status)).toEqual([503, 503]);
    expect([...problems('GET', '/postback', answers[0]!), ...problems('POST', '/postback', answers[1]!)]).toEqual([]);
  }, 30_000);

  it('documents what is not JSON: report CSV, the pixel GIF, form and multipart postbacks', async () => {
    const csv = await server.call('GET', '/api/v1/reports?format=csv');
    const pixel = await fetch(`${server.url}/pixel?offer_id=1`);
    expect([
      ...problems('GET', '/api/v1/reports', csv),
      ...problems('GET', '/pixel', { status: pixel.status, headers: pixel.headers, body: null }),
    ]).toEqual([]);
    expect(Object.keys(operation('post', '/postback').requestBody.content)).toEqual(['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);
  });
});
