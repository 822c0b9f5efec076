import { describe, expect, it } from 'vitest';
import { MemoryLiveState, prepareCapPeriods } from '../../src/live/state/index.js';
import type { HistoryBucket, LiveHistoryReader } from '../../src/ports/store.js';
import { access, offer, partner, snapshotOf } from '../engine/fixtures.js';

/**
 * A caps_timezone change recounts the offer's daily, weekly and monthly counters from the stored
 * clicks (prepareCapPeriods). Clicks are counted when routed and stored a moment later by the writer
 * thread: one counted but not yet committed when the history is read must still count afterwards,
 * or every click in flight at that instant is forgotten and the hard cap lets as many more through
 * (README: "concurrent clicks never overshoot a hard cap on one server").
 */

const NOW = Date.parse('2025-01-15T12:00:00.000Z'); // the 15th in UTC and in London
const visitor = (n: number) => ({ visitorId: n.toString(16).padStart(32, '0'), ip: null, userAgent: null, gaid: null, idfa: null });

/** A store holding the clicks that were committed: `stored` buckets, nothing else. */
function history(stored: HistoryBucket[]): LiveHistoryReader {
  return {
    totals: async () => [],
    bucketsBetween: async (from, to) => stored.filter((b) => `${b.minute}:00.000Z` >= from && (to === null || `${b.minute}:00.000Z` < to)),
    visitorsBetween: async () => [],
    convertedVisitors: async () => [],
  };
}

/**
 * Offer 1 with a daily click cap, its caps_timezone changed from UTC to Tokyo at 23:30 UTC (already
 * the 16th there): two clicks stored, a third counted whose write has not committed at the recount.
 */
async function clicksAcrossTokyoMidnight(limit: number) {
  const late = Date.parse('2025-01-15T23:30:00.000Z');
  const caps = [{ metric: 'clicks' as const, period: 'daily' as const, limit, mode: 'hard' as const }];
  const before = snapshotOf({ offers: [offer(1, { caps, caps_timezone: 'UTC' })], partners: [partner(7)], offerAccess: [access(1, 7, 'approved')] });
  const after = snapshotOf({ offers: [offer(1, { caps, caps_timezone: 'Asia/Tokyo' })], partners: [partner(7)], offerAccess: [access(1, 7, 'approved')] });
  let current = before;
  const state = new MemoryLiveState({ snapshot: () => current });
  state.reserveClick({ offerId: 1, partnerId: 7, timeMs: late - 60_000, visitor: visitor(1) }).confirm();
  state.reserveClick({ offerId: 1, partnerId: 7, timeMs: late - 60_000, visitor: visitor(2) }).confirm();
  const inFlight = state.reserveClick({ offerId: 1, partnerId: 7, timeMs: late, visitor: visitor(3) });
  const stored: HistoryBucket[] = [{ offerId: 1, partnerId: 7, minute: '2025-01-15T23:29', clicks: 2, conversions: 0, payoutMicros: 0, revenueMicros: 0 }];
  const swap = await prepareCapPeriods(state, history(stored), before, after, () => late);
  current = after;
  swap?.();
  return { state, inFlight, late };
}

describe('caps_timezone changed with clicks in flight', () => {
  it('a click counted but not yet stored when the counters are recounted still counts toward the hard cap', async () => {
    const caps = [{ metric: 'clicks' as const, period: 'daily' as const, limit: 3, mode: 'hard' as const }];
    const before = snapshotOf({ offers: [offer(1, { caps, caps_timezone: 'UTC' })], partners: [partner(7)], offerAccess: [access(1, 7, 'approved')] });
    const after = snapshotOf({ offers: [offer(1, { caps, caps_timezone: 'Europe/London' })], partners: [partner(7)], offerAccess: [access(1, 7, 'approved')] });
    let current = before;
    const state = new MemoryLiveState({ snapshot: () => current });

    // Two clicks stored, a third routed and counted whose write has not committed yet.
    state.reserveClick({ offerId: 1, partnerId: 7, timeMs: NOW - 60_000, visitor: visitor(1) }).confirm();
    state.reserveClick({ offerId: 1, partnerId: 7, timeMs: NOW - 60_000, visitor: visitor(2) }).confirm();
    const inFlight = state.reserveClick({ offerId: 1, partnerId: 7, timeMs: NOW, visitor: visitor(3) });
    expect(state.viewAt(NOW).capReached(1, 7)).toBe(true);
    const stored: HistoryBucket[] = [{ offerId: 1, partnerId: 7, minute: '2025-01-15T11:59', clicks: 2, conversions: 0, payoutMicros: 0, revenueMicros: 0 }];

    const swap = await prepareCapPeriods(state, history(stored), before, after, () => NOW);
    current = after;
    swap?.();
    inFlight.confirm();

    expect(state.capUsage(1, 7, NOW).map((u) => [u.scope, u.used])).toEqual([['offer', 3]]);
    expect(state.viewAt(NOW).capReached(1, 7)).toBe(true);
  });

  it('a click in flight moves to the new zone\'s current day when the two zones are on different days', async () => {
    const { state, inFlight, late } = await clicksAcrossTokyoMidnight(5);
    inFlight.confirm();

    // Tokyo's 16th began at 15:00 UTC: the two stored clicks and the one in flight are all in it, once each.
    expect(state.capUsage(1, 7, late).map((u) => [u.scope, u.used])).toEqual([['offer', 3]]);
  });

  it('a conversion counted but not yet stored still counts toward a payout cap', async () => {
    const caps = [{ metric: 'payout' as const, period: 'daily' as const, limit: 10_000_000, mode: 'hard' as const }];
    const before = snapshotOf({ offers: [offer(1, { caps, caps_timezone: 'UTC' })], partners: [partner(7)] });
    const after = snapshotOf({ offers: [offer(1, { caps, caps_timezone: 'Europe/London' })], partners: [partner(7)] });
    let current = before;
    const state = new MemoryLiveState({ snapshot: () => current });
    const conversion = { offerId: 1, partnerId: 7, base: true, payoutMicros: 4_000_000, revenueMicros: 5_000_000 };
    state.reserveConversion({ ...conversion, timeMs: NOW - 60_000 }).reservation.confirm();
    const inFlight = state.reserveConversion({ ...conversion, timeMs: NOW }).reservation;
    const stored: HistoryBucket[] = [{ offerId: 1, partnerId: 7, minute: '2025-01-15T11:59', clicks: 0, conversions: 1, payoutMicros: 4_000_000, revenueMicros: 5_000_000 }];
    const swap = await prepareCapPeriods(state, history(stored), before, after, () => NOW);
    current = after;
    swap?.();
    inFlight.confirm();
    expect(state.capUsage(1, 7, NOW).map((u) => [u.metric, u.used])).toEqual([['payout', 8_000_000]]);
  });

  it('counts nothing twice: clicks stored and counted before the change stay counted once', async () => {
    const caps = [{ metric: 'clicks' as const, period: 'daily' as const, limit: 3, mode: 'hard' as const }];
    const before = snapshotOf({ offers: [offer(1, { caps, caps_timezone: 'UTC' })], partners: [partner(7)] });
    const after = snapshotOf({ offers: [offer(1, { caps, caps_timezone: 'Asia/Tokyo' })], partners: [partner(7)] });
    let current = before;
    const state = new MemoryLiveState({ snapshot: () => current });
    state.reserveClick({ offerId: 1, partnerId: 7, timeMs: NOW - 60_000, visitor: visitor(1) }).confirm();
    const stored: HistoryBucket[] = [{ offerId: 1, partnerId: 7, minute: '2025-01-15T11:59', clicks: 1, conversions: 0, payoutMicros: 0, revenueMicros: 0 }];
    const swap = await prepareCapPeriods(state, history(stored), before, after, () => NOW);
    current = after;
    swap?.();
    expect(state.capUsage(1, 7, NOW).map((u) => u.used)).toEqual([1]);
  });

  it('stored clicks this memory never counted (another process on the same database) are counted, and take nothing off', async () => {
    const caps = [{ metric: 'clicks' as const, period: 'daily' as const, limit: 5, mode: 'hard' as const }];
    const before = snapshotOf({ offers: [offer(1, { caps, caps_timezone: 'UTC' })], partners: [partner(7)] });
    const after = snapshotOf({ offers: [offer(1, { caps, caps_timezone: 'Europe/London' })], partners: [partner(7)] });
    let current = before;
    const state = new MemoryLiveState({ snapshot: () => current });
    state.reserveClick({ offerId: 1, partnerId: 7, timeMs: NOW - 60_000, visitor: visitor(1) }).confirm();
    // This process stored 1 click; the other process 2 in the same minute.
    const stored: HistoryBucket[] = [{ offerId: 1, partnerId: 7, minute: '2025-01-15T11:59', clicks: 3, conversions: 0, payoutMicros: 0, revenueMicros: 0 }];
    const swap = await prepareCapPeriods(state, history(stored), before, after, () => NOW);
    current = after;
    swap?.();
    expect(state.capUsage(1, 7, NOW).map((u) => u.used)).toEqual([3]);
  });
  it('a click in flight whose write then fails is taken off the new zone\'s day it was moved to, so the hard cap is not left reached', async () => {
    const { state, inFlight, late } = await clicksAcrossTokyoMidnight(3);
    inFlight.release(); // its write failed: the click was answered 503 and never stored

    expect(state.capUsage(1, 7, late).map((u) => [u.scope, u.used])).toEqual([['offer', 2]]);
    expect(state.viewAt(late).capReached(1, 7)).toBe(false);
  });

  it('a conversion in flight that turns out a duplicate is taken off the new zone\'s day it was moved to', async () => {
    const late = Date.parse('2025-01-15T23:30:00.000Z');
    const caps = [{ metric: 'payout' as const, period: 'daily' as const, limit: 10_000_000, mode: 'hard' as const }];
    const before = snapshotOf({ offers: [offer(1, { caps, caps_timezone: 'UTC' })], partners: [partner(7)] });
    const after = snapshotOf({ offers: [offer(1, { caps, caps_timezone: 'Asia/Tokyo' })], partners: [partner(7)] });
    let current = before;
    const state = new MemoryLiveState({ snapshot: () => current });
    const conversion = { offerId: 1, partnerId: 7, base: true, payoutMicros: 4_000_000, revenueMicros: 5_000_000 };
    state.reserveConversion({ ...conversion, timeMs: late - 60_000 }).reservation.confirm();
    const inFlight = state.reserveConversion({ ...conversion, timeMs: late }).reservation;
    const stored: HistoryBucket[] = [{ offerId: 1, partnerId: 7, minute: '2025-01-15T23:29', clicks: 0, conversions: 1, payoutMicros: 4_000_000, revenueMicros: 5_000_000 }];
    const swap = await prepareCapPeriods(state, history(stored), before, after, () => late);
    current = after;
    swap?.();
    inFlight.release();
    expect(state.capUsage(1, 7, late).map((u) => [u.metric, u.used])).toEqual([['payout', 4_000_000]]);
  });
});
