import { createHash, timingSafeEqual } from 'node:crypto';
import type { ClickRecord } from '../domain/click.js';
import {
  REJECTION, amountFor, identityOf, withinAttributionWindow, type ConversionMethod, type ConversionStatus, type NewConversion,
} from '../domain/conversion.js';
import { canonicalIp } from '../context/ip-text.js';
import { AppError } from '../domain/errors.js';
import type { OfferRecord } from '../domain/records.js';
import type { ConversionWriteResult, ConversionWriter, QueuedPartnerPostback } from '../ports/conversion-writer.js';
import type { LiveState, Reservation } from '../ports/live-state.js';
import type { StoreTx } from '../ports/store.js';
import { postbackUrlPieces } from './postback-url.js';

/** A conversion report, parsed and validated at the edge (postback or pixel). */
export interface ConversionReport {
  transactionId: string;
  method: ConversionMethod;
  amountMicros: number | null;
  eventId: string | null;
  orderId: string | null;
  adv: readonly [string | null, string | null, string | null, string | null, string | null];
  /** Checked against the offer's postback secret on server postbacks; pixels cannot carry one. */
  verificationToken: string | null;
  /** The offer the report is for, when it names one (a pixel does): the click must be on it. */
  offerId?: number;
}

export interface RecordDeps {
  /** Reads the click, its offer and partner, and whether a retry is already stored (an early answer: the writer's unique key decides duplicates). */
  store: Pick<StoreTx, 'clicks' | 'offers' | 'partners' | 'conversions'>;
  writer: ConversionWriter;
  /** Caps counters (hard caps make a conversion pending) and already-converted memory. */
  live: LiveState;
  now: () => number;
  /**
   * Reports being recorded, by idempotency key: a report waits for one with its key to finish.
   * Concurrent copies of one postback (an advertiser's retry racing the original) each reserved a
   * cap slot until the write called them duplicates, and a genuine conversion judged meanwhile was
   * stored pending over a hard cap for good.
   */
  inFlight: Map<string, Promise<unknown>>;
}

/** Runs `work` after every earlier work of `key` has settled; the map holds only unsettled chains. */
async function oneAtATime<T>(queue: Map<string, Promise<unknown>>, key: string, work: () => Promise<T>): Promise<T> {
  const mine = (queue.get(key) ?? Promise.resolve()).catch(() => undefined).then(work);
  queue.set(key, mine);
  try {
    return await mine;
  } finally {
    if (queue.get(key) === mine) queue.delete(key);
  }
}

export interface RecordResult {
  status: ConversionStatus | 'duplicate';
  conversion_id: number;
}

function conversionStatus(inWindow: boolean, overHardCap: boolean): ConversionStatus {
  if (!inWindow) return 'rejected';
  return overHardCap ? 'pending' : 'approved';
}

/** Runs the write; keeps the reservation only when a new conversion was stored. */
async function settle(reservation: Reservation | null, write: () => Promise<ConversionWriteResult>): Promise<ConversionWriteResult> {
  try {
    const result = await write();
    if (result.inserted) reservation?.confirm();
    else reservation?.release();
    return result;
  } catch (err) {
    reservation?.release();
    throw err;
  }
}

function tokenMatches(token: string | null, secretHashHex: string): boolean {
  const expected = Buffer.from(secretHashHex, 'hex');
  // Hashing first gives both sides the same length, so the comparison time says nothing about the token.
  const presented = createHash('sha256').update(token ?? '').digest();
  return token !== null && expected.length === presented.length && timingSafeEqual(presented, expected);
}

/** Refuses what must not convert; throws the AppError the caller answers with. */
function checkAllowed(report: ConversionReport, offer: OfferRecord): void {
  if (report.method === 'server_postback' && offer.postback_secret_hash !== null && !tokenMatches(report.verificationToken, offer.postback_secret_hash)) {
    throw new AppError('forbidden', 'verification_token is missing or wrong for this offer');
  }
  // A pixel cannot carry the secret and any visitor holding the cookie can fire it, so only offers
  // that chose cookie conversions accept it.
  if (report.method === 'cookie' && offer.conversion_method !== 'cookie') {
    throw new AppError('forbidden', 'this offer does not accept cookie (pixel) conversions');
  }
}

function money(offer: OfferRecord, amountMicros: number | null): { payout: number; revenue: number } {
  const payout = amountFor(offer.payout, amountMicros);
  const revenue = amountFor(offer.revenue, amountMicros);
  if (payout === undefined || revenue === undefined) {
    throw AppError.invalid([{ path: 'amount', message: 'the payout or revenue for this amount is too large to store' }]);
  }
  return { payout, revenue };
}

async function partnerPostback(deps: RecordDeps, click: ClickRecord, conversion: NewConversion, timeMs: number): Promise<QueuedPartnerPostback | null> {
  // SPEC §10.4: partners hear about approved conversions only.
  if (conversion.status !== 'approved') return null;
  const partner = await deps.store.partners.get(click.partner_id);
  if (!partner?.postback_url) return null;
  const facts = { click, payoutMicros: conversion.payout_micros, eventId: conversion.event_id, timeMs };
  return { partner_id: partner.id, url_pieces: postbackUrlPieces(partner.postback_url, facts) };
}

/**
 * The stored conversion this report repeats, if any. The idempotency key follows the offer's
 * `allow_duplicate_conversions` (see identityOf), which may have changed since the first report:
 * so a base conversion of a click that converts once repeats any earlier one, and an order of a
 * click that converts per order repeats that order however it was keyed then.
 */
async function replayOf(
  store: RecordDeps['store'],
  transactionId: string,
  identity: { event_key: string; order_key: string },
  report: ConversionReport,
  allowDuplicates: boolean,
): Promise<number | null> {
  if (report.eventId !== null) return store.conversions.idOf(transactionId, identity);
  const sameOrder = report.orderId === null ? null : await store.conversions.baseIdOf(transactionId, report.orderId);
  if (!allowDuplicates) return sameOrder ?? store.conversions.baseIdOf(transactionId);
  return (await store.conversions.idOf(transactionId, identity)) ?? sameOrder;
}

/**
 * Records one conversion (SPEC §10.1–§10.3): attributes it to its click, checks the offer's secret,
 * computes payout and revenue exactly, rejects it outside the attribution window, and stores it
 * durably through the writer, with its partner postback in the same transaction. Resolves only
 * once it (or the earlier conversion it duplicates) is committed.
 */
export async function recordConversion(deps: RecordDeps, report: ConversionReport): Promise<RecordResult> {
  const click = await deps.store.clicks.get(report.transactionId);
  if (click === undefined) throw AppError.notFound('transaction_id');
  if (click.offer_id === null) throw new AppError('not_found', 'the click with this transaction_id reached no offer');
  // A pixel's cookie can be edited: offer A's pixel must not convert (and pay for) a click on offer B.
  if (report.offerId !== undefined && report.offerId !== click.offer_id) throw new AppError('not_found', `the click with this transaction_id is not on offer ${report.offerId}`);
  const offer = await deps.store.offers.get(click.offer_id);
  if (offer === undefined) throw AppError.notFound('offer');
  checkAllowed(report, offer);

  const { payout, revenue } = money(offer, report.amountMicros);
  const identity = identityOf(report.eventId, report.orderId, offer.allow_duplicate_conversions);
  const key = `${click.transaction_id}\u0000${identity.event_key}\u0000${identity.order_key}`;
  return oneAtATime(deps.inFlight, key, () => recordNew(deps, report, click, offer, identity, { payout, revenue }));
}

/** Records a report once no other of its key is being recorded: a replay answers duplicate, anything else is counted and written. */
async function recordNew(
  deps: RecordDeps,
  report: ConversionReport,
  click: ClickRecord,
  offer: OfferRecord,
  identity: { event_key: string; order_key: string },
  { payout, revenue }: { payout: number; revenue: number },
): Promise<RecordResult> {
  // An advertiser's retry of a stored conversion answers at once: reserving a cap slot for it
  // would, while it ran, push a genuine new conversion over a hard cap (stored pending, its partner
  // never told). The unique key in the write still decides retries from other processes.
  const stored = await replayOf(deps.store, click.transaction_id, identity, report, offer.allow_duplicate_conversions);
  if (stored !== null) return { status: 'duplicate', conversion_id: stored };
  const timeMs = deps.now();
  const inWindow = withinAttributionWindow(Date.parse(click.time), offer.attribution_window_days, timeMs);
  // Check and count in one synchronous step, so concurrent conversions cannot all slip under a hard
  // cap; pending ones count too (SPEC §8). Undone below if nothing new is stored.
  const counted = inWindow
    ? deps.live.reserveConversion({
        offerId: offer.id, partnerId: click.partner_id, timeMs, base: report.eventId === null, payoutMicros: payout, revenueMicros: revenue,
      })
    : null;
  const status = conversionStatus(inWindow, counted?.overHardCap ?? false);
  const [adv1, adv2, adv3, adv4, adv5] = report.adv;
  const conversion: NewConversion = {
    transaction_id: click.transaction_id,
    time: new Date(timeMs).toISOString(),
    click_time: click.time,
    offer_id: offer.id,
    partner_id: click.partner_id,
    advertiser_id: click.advertiser_id ?? offer.advertiser_id,
    smart_link_id: click.smart_link_id,
    entry_id: click.entry_id,
    offer_url_id: click.offer_url_id,
    method: report.method,
    status,
    status_reason: status === 'rejected' ? REJECTION.outsideAttributionWindow : status === 'pending' ? REJECTION.overHardCap : null,
    event_id: report.eventId,
    order_id: report.orderId,
    amount_micros: report.amountMicros,
    payout_micros: payout,
    revenue_micros: revenue,
    adv1, adv2, adv3, adv4, adv5,
  };
  const result = await settle(counted?.reservation ?? null, async () =>
    deps.writer.writeConversion({
      conversion,
      ...identity,
      partner_postback: await partnerPostback(deps, click, conversion, timeMs),
    }),
  );
  if (result.inserted && counted !== null && report.eventId === null) {
    // SPEC §9: this visitor converted on the offer, under every identifier its click carried (its
    // address in today's spelling: a click stored by an older version may have another).
    deps.live.markConverted(offer.id, { visitorId: click.visitor_id, ip: canonicalIp(click.ip), userAgent: click.user_agent, gaid: click.gaid, idfa: click.idfa });
  }
  return { status: result.inserted ? conversion.status : 'duplicate', conversion_id: result.id };
}
