import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CapNotification } from '../../src/domain/notification.js';
import { MemoryLiveState } from '../../src/live/state/index.js';
import { access, offer, partner, snapshotOf } from '../engine/fixtures.js';

/**
 * The embedded LiveState on its own: reservations that are released leave no trace, conversions
 * are judged against hard caps before they count, and a seeded run of reserve/confirm/release
 * never lets a hard click cap admit more than its limit.
 */

const T0 = Date.parse('2025-06-10T12:00:00.000Z');
const visitor = (n: number) => ({ visitorId: n.toString(16).padStart(32, '0'), ip: `10.0.0.${n % 250}`, userAgent: 'ua', gaid: null, idfa: null });

function stateWith(caps: Parameters<typeof offer>[1], partnerCaps: Parameters<typeof access>[3] = [], notes: CapNotification[] = []) {
  const snapshot = snapshotOf({ offers: [offer(1, caps)], partners: [partner(7), partner(8)], offerAccess: [access(1, 7, 'approved', partnerCaps)] });
  return new MemoryLiveState({ snapshot: () => snapshot, onNotification: (n) => notes.push(n) });
}

describe('MemoryLiveState', () => {
  it('a released click reservation undoes its count and its duplicate memory', () => {
    const state = stateWith({ caps: [{ metric: 'clicks', period: 'daily', limit: 1, mode: 'hard' }], duplicate_filter: { enabled: true, identifier: 'ip' } });
    const reservation = state.reserveClick({ offerId: 1, partnerId: 7, timeMs: T0, visitor: visitor(1) });
    expect(state.viewAt(T0).capReached(1, 7)).toBe(true);
    expect(state.viewAt(T0).isDuplicate(1, 'ip:10.0.0.1', 24)).toBe(true);
    reservation.release();
    reservation.release(); // idempotent
    expect(state.viewAt(T0).capReached(1, 7)).toBe(false);
    expect(state.viewAt(T0).isDuplicate(1, 'ip:10.0.0.1', 24)).toBe(false);
  });

  it('prune forgets the visitors whose last click left the window, keeping one who came back', () => {
    const state = stateWith({ duplicate_filter: { enabled: true, identifier: 'ip', window_hours: 24 } });
    const click = (n: number, hours: number) => state.reserveClick({ offerId: 1, partnerId: 7, timeMs: T0 + hours * 3_600_000, visitor: visitor(n) }).confirm();
    click(1, 0);
    click(2, 1);
    click(3, 2);
    click(1, 20);
    // 25.5 h after the first clicks: visitor 2 (24.5 h ago) is past the 24 h window, 3 (23.5 h) and 1 (5.5 h) are not.
    state.prune(T0 + 25.5 * 3_600_000);
    // Asked with a wider window than the offer's, the memory shows what prune kept.
    const view = state.viewAt(T0 + 25.5 * 3_600_000);
    expect(view.isDuplicate(1, 'ip:10.0.0.1', 100)).toBe(true);
    expect(view.isDuplicate(1, 'ip:10.0.0.2', 100)).toBe(false);
    expect(view.isDuplicate(1, 'ip:10.0.0.3', 100)).toBe(true);
  });

  it('judges a cookie from the click time its transaction id carries, with nothing remembered', () => {
    // A fresh state that never saw the click: a restart without rebuild, or another node.
    const state = stateWith({ duplicate_filter: { enabled: true, identifier: 'cookie', window_hours: 24 } });
    const earlier = `${(T0 - 23 * 3_600_000).toString(16).padStart(12, '0')}${'ab'.repeat(10)}`;
    const stale = `${(T0 - 25 * 3_600_000).toString(16).padStart(12, '0')}${'ab'.repeat(10)}`;
    expect(state.viewAt(T0).isDuplicate(1, `cookie:${earlier}`, 24)).toBe(true);
    expect(state.viewAt(T0).isDuplicate(1, `cookie:${stale}`, 24)).toBe(false);
  });

  it('a partner cap caps only that partner on the offer', () => {
    const state = stateWith({}, [{ metric: 'clicks', period: 'global', limit: 2, mode: 'hard' }]);
    for (let i = 0; i < 2; i++) state.reserveClick({ offerId: 1, partnerId: 7, timeMs: T0, visitor: visitor(i) }).confirm();
    expect(state.viewAt(T0).capReached(1, 7)).toBe(true);
    expect(state.viewAt(T0).capReached(1, 8)).toBe(false);
  });

  it('a conversion that would pass a hard money cap is over it; pending ones count; a release gives the room back', () => {
    const state = stateWith({ caps: [{ metric: 'payout', period: 'monthly', limit: 3, mode: 'hard' }] });
    const convert = (payoutMicros: number) => state.reserveConversion({ offerId: 1, partnerId: 7, timeMs: T0, base: true, payoutMicros, revenueMicros: 0 });
    expect(convert(2_000_000).overHardCap).toBe(false);
    const second = convert(1_500_000);
    expect(second.overHardCap).toBe(true); // 2 + 1.5 > 3, still counted
    expect(state.capUsage(1, 7, T0)[0]).toMatchObject({ scope: 'offer', metric: 'payout', used: 3_500_000, limit: 3_000_000 });
    second.reservation.release();
    expect(convert(1_000_000).overHardCap).toBe(false); // exactly 3
    expect(convert(1).overHardCap).toBe(true); // reached: any payout is over it
    expect(convert(0).overHardCap).toBe(false); // no payout adds nothing to a payout cap
  });

  it('a soft cap notifies once per period, on confirmation only', () => {
    const notes: CapNotification[] = [];
    const state = stateWith({ caps: [{ metric: 'clicks', period: 'daily', limit: 2, mode: 'soft' }] }, [], notes);
    state.reserveClick({ offerId: 1, partnerId: 7, timeMs: T0, visitor: visitor(1) }).confirm();
    state.reserveClick({ offerId: 1, partnerId: 7, timeMs: T0, visitor: visitor(2) }).release();
    expect(notes).toHaveLength(0);
    for (let i = 3; i < 6; i++) state.reserveClick({ offerId: 1, partnerId: 7, timeMs: T0, visitor: visitor(i) }).confirm();
    expect(notes).toEqual([expect.objectContaining({ scope: 'offer', metric: 'clicks', period: 'daily', period_key: 'day-2025-06-10', limit: 2, used: 2 })]);
    expect(state.viewAt(T0).capReached(1, 7)).toBe(false); // soft caps never block
    state.reserveClick({ offerId: 1, partnerId: 7, timeMs: T0 + 86_400_000, visitor: visitor(9) }).confirm();
    state.reserveClick({ offerId: 1, partnerId: 7, timeMs: T0 + 86_400_000, visitor: visitor(10) }).confirm();
    expect(notes.map((n) => n.period_key)).toEqual(['day-2025-06-10', 'day-2025-06-11']);
  });

  it('seeded: whatever the interleaving of reservations, releases and confirmations, admitted clicks never exceed a hard cap', () => {
    // Each step reserves a click (when the cap allows), or ends one of the open reservations, or
    // calls an ending again on one already ended (the click route releases in its catch, which a
    // throwing confirm would reach). Reservations stay open across steps: with one step reserving
    // and ending at once, at most one was ever open, and a second ending was never called.
    const step = fc.oneof(
      fc.constant({ kind: 'reserve' as const }),
      fc.record({ kind: fc.constantFrom('confirm' as const, 'release' as const), pick: fc.nat(50) }),
      fc.record({ kind: fc.constant('again' as const), pick: fc.nat(50), confirm: fc.boolean() }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(step, { minLength: 1, maxLength: 200 }), (limit, steps) => {
        const state = stateWith({ caps: [{ metric: 'clicks', period: 'global', limit, mode: 'hard' }] });
        const open: { release(): void; confirm(): void }[] = [];
        const ended: { release(): void; confirm(): void }[] = [];
        let confirmed = 0;
        for (const [i, action] of steps.entries()) {
          if (action.kind === 'reserve') {
            // A click is admitted only when the cap is not reached, exactly as the engine asks.
            if (!state.viewAt(T0).capReached(1, 7)) open.push(state.reserveClick({ offerId: 1, partnerId: 7, timeMs: T0, visitor: visitor(i) }));
          } else if (action.kind === 'again') {
            const done = ended[action.pick % Math.max(ended.length, 1)];
            if (action.confirm) done?.confirm();
            else done?.release();
          } else {
            const [done] = open.splice(action.pick % Math.max(open.length, 1), 1);
            if (done && action.kind === 'release') done.release();
            else if (done) (done.confirm(), confirmed++);
            if (done) ended.push(done);
          }
          expect(confirmed + open.length).toBeLessThanOrEqual(limit);
          // Confirmed and open reservations are what the cap counts: it is reached exactly at the limit.
          expect(state.viewAt(T0).capReached(1, 7)).toBe(confirmed + open.length >= limit);
        }
      }),
      { seed: 7, numRuns: 200 },
    );
  });
});
