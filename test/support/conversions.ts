import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { ClickRecord } from '../../src/domain/click.js';
import type { Response, TestServer } from './api-server.js';
import { clickOn, transactionIdIn, withClicksDb } from './clicks.js';
import { create } from './fixtures.js';

/** One offer behind its own one-entry smart link, and a partner's tracking token for it. */
export interface ConvertingOffer {
  offerId: number;
  smartLinkId: number;
  entryId: number;
  token: string;
}

export const uniqueName = (prefix: string) => `${prefix} ${randomBytes(4).toString('hex')}`;

/** Creates an offer (destination carrying `tid={transaction_id}`) on a one-entry smart link for `partnerId`. */
export async function convertingOffer(
  server: TestServer,
  advertiserId: number,
  partnerId: number,
  offer: Record<string, unknown> = {},
  link: Record<string, unknown> = {},
): Promise<ConvertingOffer> {
  const created = await create(server, '/api/v1/offers', {
    advertiser_id: advertiserId,
    name: uniqueName('offer'),
    destination_url: 'https://shop.example/land?tid={transaction_id}',
    ...offer,
  });
  const smartLink = await create(server, '/api/v1/smart-links', {
    name: uniqueName('link'),
    entries: [{ offer_id: created.id }],
    ...link,
  });
  const minted = await server.call('POST', `/api/v1/smart-links/${smartLink.id}/tracking-links`, { partner_id: partnerId });
  expect(minted.status, JSON.stringify(minted.body)).toBe(201);
  return { offerId: created.id, smartLinkId: smartLink.id, entryId: smartLink.entries[0].id, token: minted.body.token };
}

/** Clicks the tracking link and returns the click's transaction id from the redirect. */
export async function clickTid(server: TestServer, token: string, query: Record<string, string> = {}): Promise<string> {
  const answer = await clickOn(server.url, token, query);
  expect(answer.status).toBe(302);
  return transactionIdIn(answer.location);
}

/** `GET /postback?…` with the given parameters (URL-encoded here). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are checked field by field, like TestServer.call
export async function postback(server: TestServer, params: Record<string, string>): Promise<Response<any>> {
  return server.call('GET', `/postback?${new URLSearchParams(params).toString()}`, undefined, { key: null });
}

/** Stores a copy of a real click with a new transaction id and the given time, through the server's writer. */
export async function storeClickAt(server: TestServer, template: string, time: Date): Promise<string> {
  const original = await server.store.clicks.get(template);
  if (!original) throw new Error(`no click ${template}`);
  const transactionId = randomBytes(16).toString('hex');
  const copy: ClickRecord = { ...original, transaction_id: transactionId, time: time.toISOString() };
  await server.clickWriter.write(copy);
  return transactionId;
}

/**
 * Stores `count` copies of a real click, each changed by `vary(i)` and with its own transaction id,
 * through the server's writer (the click path would take minutes for that many), in rounds that
 * keep the writes in flight bounded.
 */
export async function storeClickCopies(server: TestServer, template: string, count: number, vary: (i: number) => Partial<ClickRecord>): Promise<void> {
  const original = await server.store.clicks.get(template);
  if (!original) throw new Error(`no click ${template}`);
  const round = 25_000;
  for (let start = 0; start < count; start += round) {
    const writes: Promise<void>[] = [];
    for (let i = start; i < Math.min(count, start + round); i++) {
      writes.push(server.clickWriter.write({ ...original, ...vary(i), transaction_id: randomBytes(16).toString('hex') }));
    }
    await Promise.all(writes);
  }
}

export interface ConversionDbRow {
  id: number;
  transaction_id: string;
  event_key: string;
  order_key: string;
  order_id: string | null;
  status: string;
  status_reason: string | null;
  method: string;
  amount_micros: number | null;
  payout_micros: number;
  revenue_micros: number;
}

/** Conversions stored for a transaction id, read from the database file itself. */
export function storedConversions(server: TestServer, transactionId: string): ConversionDbRow[] {
  return withClicksDb(server.dataDir, (db) =>
    db.prepare('select * from conversions where transaction_id = ? order by id').all(transactionId) as ConversionDbRow[],
  );
}

export function countConversions(server: TestServer): number {
  return withClicksDb(server.dataDir, (db) => (db.prepare('select count(*) as n from conversions').get() as { n: number }).n);
}

export interface OutboxRow {
  id: number;
  conversion_id: number;
  partner_id: number;
  url: string;
  state: string;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
}

export function outboxRowsFor(server: TestServer, conversionId: number): OutboxRow[] {
  return withClicksDb(server.dataDir, (db) =>
    db.prepare('select * from partner_postbacks where conversion_id = ?').all(conversionId) as OutboxRow[],
  );
}
