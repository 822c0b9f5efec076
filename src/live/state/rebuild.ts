import { rememberedKey, type OfferView, type Snapshot } from '../../engine/index.js';
import type { HistoryTotal, LiveHistoryReader, VisitorRow } from '../../ports/store.js';
import { offerScope, partnerScope, type CapMetric } from './cap-counters.js';
import type { MemoryLiveState } from './memory-live-state.js';
import { periodKeys, type PeriodKeys } from './period-key.js';

const HOUR_MS = 3_600_000;
/**
 * How far back the daily, weekly and monthly periods can reach: a month of 31 days plus the widest
 * gap between a zone's wall clock and UTC (±14 h), rounded up. Older rows matter only to global
 * caps, which the database sums.
 */
const PERIOD_LOOKBACK_MS = 33 * 24 * HOUR_MS;

const METRICS: readonly [CapMetric, (t: HistoryTotal) => number][] = [
  ['clicks', (t) => t.clicks],
  ['conversions', (t) => t.conversions],
  ['payout', (t) => t.payoutMicros],
  ['revenue', (t) => t.revenueMicros],
];

const factsOf = (row: VisitorRow) => ({ visitorId: row.visitorId, ip: row.ip, userAgent: row.userAgent, gaid: row.gaid, idfa: row.idfa });

type Current = (zone: string) => PeriodKeys;

function addTotals(state: MemoryLiveState, snapshot: Snapshot, total: HistoryTotal, atMs: number, periods: 'global' | 'calendar', current: Current): void {
  const zone = snapshot.offers.get(total.offerId)?.capsTimeZone ?? 'UTC';
  const keys = periodKeys(atMs, zone);
  // A bucket counts toward a calendar period only if that period is still the current one.
  const calendar = (['daily', 'weekly', 'monthly'] as const).filter((p) => keys[p] === current(zone)[p]);
  const which = periods === 'global' ? (['global'] as const) : calendar;
  if (which.length === 0) return;
  for (const scope of [offerScope(total.offerId), partnerScope(total.offerId, total.partnerId)]) {
    for (const [metric, amount] of METRICS) state.counters.add(scope, keys, metric, amount(total), which);
  }
}

/**
 * Remembers the visitors of the offers' clicks inside each one's duplicate window (every offer's,
 * or only those of `only`). The clicks are read once for all offers, by time, an hour at a time (so
 * memory holds one hour's rows, not a window's), back to the start of the widest window: clicks
 * carry no per-offer index, which would cost every group commit one more page write per distinct
 * offer in the batch.
 */
async function rememberVisitors(state: MemoryLiveState, history: LiveHistoryReader, snapshot: Snapshot, nowMs: number, only?: ReadonlySet<number>): Promise<void> {
  const offers = [...snapshot.offers.values()].filter((offer) => only === undefined || only.has(offer.id));
  if (offers.length === 0) return;
  const windowStart = (offer: OfferView) => nowMs - offer.duplicateFilter.windowHours * HOUR_MS;
  let earliest = nowMs;
  for (const offer of offers) earliest = Math.min(earliest, windowStart(offer));
  for (let from = earliest; ; from += HOUR_MS) {
    // The last slice has no upper bound, as a click stamped a moment ahead of this clock still counts.
    const last = from + HOUR_MS > nowMs;
    const rows = await history.visitorsBetween(new Date(from).toISOString(), last ? null : new Date(from + HOUR_MS).toISOString());
    for (const row of rows) {
      const offer = only === undefined || only.has(row.offerId) ? snapshot.offers.get(row.offerId) : undefined;
      const atMs = Date.parse(row.time);
      if (offer === undefined || atMs < windowStart(offer)) continue;
      const key = rememberedKey(offer.duplicateFilter.identifier, factsOf(row));
      if (key !== null) state.rememberVisitor(offer.id, key, atMs);
    }
    if (last) return;
  }
}

/**
 * After a configuration change: the offers whose duplicate memory no longer covers what their
 * filter asks (a longer window reaches visitors already pruned; another identifier needs keys of
 * its kind) have their window read again, so the change acts at once as it would after a restart.
 */
export async function refreshVisitorMemory(state: MemoryLiveState, history: LiveHistoryReader, previous: Snapshot, next: Snapshot, nowMs: number): Promise<void> {
  const stale = new Set<number>();
  for (const offer of next.offers.values()) {
    const before = previous.offers.get(offer.id)?.duplicateFilter;
    if (before === undefined) continue;
    const after = offer.duplicateFilter;
    if (after.windowHours > before.windowHours || after.identifier !== before.identifier) stale.add(offer.id);
  }
  if (stale.size > 0) await rememberVisitors(state, history, next, nowMs, stale);
}

/**
 * Rebuilds caps counters, duplicate memory and already-converted memory from what is stored, so
 * they survive restarts (SPEC §8, §9, §12.1). Reservations of clicks that were never acknowledged
 * died with the process; acknowledged clicks are stored; so afterwards every counter equals the
 * count recomputed from stored rows. Reads: all-time sums per (offer, partner) from the database,
 * per-minute sums of the last 33 days (to place them in each zone's current day, week and month),
 * and the clicks inside each offer's duplicate window.
 */
export async function rebuildLiveState(state: MemoryLiveState, history: LiveHistoryReader, snapshot: Snapshot, nowMs: number): Promise<void> {
  const currentByZone = new Map<string, PeriodKeys>();
  const current: Current = (zone) => {
    let keys = currentByZone.get(zone);
    if (keys === undefined) currentByZone.set(zone, (keys = periodKeys(nowMs, zone)));
    return keys;
  };
  for (const total of await history.totals()) addTotals(state, snapshot, total, nowMs, 'global', current);
  const since = new Date(nowMs - PERIOD_LOOKBACK_MS).toISOString();
  for (const bucket of await history.bucketsSince(since)) {
    addTotals(state, snapshot, bucket, Date.parse(`${bucket.minute}:00.000Z`), 'calendar', current);
  }
  await rememberVisitors(state, history, snapshot, nowMs);
  for (const row of await history.convertedVisitors()) state.markConverted(row.offerId, factsOf(row));
  // Soft caps are not marked as notified here: whether a period's notification was stored is in the
  // store alone (a cap lowered below its use, or a crash before the insert, leaves none), and its
  // unique key turns a repeat into nothing (see server.ts).
}
