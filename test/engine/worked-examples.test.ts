import { describe, expect, it } from 'vitest';
import type { Rule } from '../../src/domain/schemas/ruleset.js';
import { allClear, decide, seededRng, type StateView } from '../../src/engine/index.js';
import { context, entry, offer, offerUrl, partner, smartLink, snapshotOf } from './fixtures.js';

/** The worked examples of the reference, §19.1, as executable expectations. */
const include = (dimension: Rule['dimension'], ...values: string[]): Rule => ({ dimension, op: 'include', values });
const ANDROID = context({ device: { os: 'Android', os_version: '14', device_type: 'mobile', browser: 'Chrome', brand: 'Samsung', language: 'en' } });

describe('reference §19.1 worked examples', () => {
  it('OS split: an Android click can only reach the Android offer, with probability 1', () => {
    const snapshot = snapshotOf({
      offers: [
        offer(1, { ruleset: { rules: [include('os', 'iOS')] } }),
        offer(2, { ruleset: { rules: [include('os', 'Android')] } }),
        offer(3, { ruleset: { rules: [include('device_type', 'desktop')] } }),
      ],
      smartLinks: [smartLink(1, [1, 2, 3].map((i) => entry(i, i, { routing_value: 1 })), { routing: 'weight' })],
    });
    const rng = seededRng(3);
    for (let i = 0; i < 200; i++) {
      const decision = decide(snapshot, 1, 1, ANDROID, allClear, rng);
      expect(decision?.entry_id).toBe(2);
      expect(decision?.skipped).toEqual([{ entry_id: 1, reason: 4 }, { entry_id: 3, reason: 5 }]);
    }
  });

  it('OS split: three URLs of the same iOS offer with weights 1/1/1 each get about a third', () => {
    const snapshot = snapshotOf({
      offers: [offer(1, { ruleset: { rules: [include('os', 'iOS')] } })],
      offerUrls: [offerUrl(11, 1), offerUrl(12, 1), offerUrl(13, 1)],
      smartLinks: [smartLink(1, [11, 12, 13].map((u) => entry(u, 1, { offer_url_id: u, routing_value: 1 })), { routing: 'weight' })],
    });
    const rng = seededRng(4);
    const counts = new Map<number | null, number>();
    for (let i = 0; i < 30_000; i++) {
      const url = decide(snapshot, 1, 1, context(), allClear, rng)?.offer_url_id ?? null;
      counts.set(url, (counts.get(url) ?? 0) + 1);
    }
    for (const u of [11, 12, 13]) expect(Math.abs((counts.get(u) ?? 0) / 30_000 - 1 / 3)).toBeLessThan(0.01);
  });

  describe('priority + cap', () => {
    const snapshot = snapshotOf({
      offers: [
        offer(1, { ruleset: { rules: [include('country', 'US')] }, caps: [{ metric: 'conversions', period: 'daily', limit: 10 }] }),
        offer(2, { ruleset: { rules: [include('country', 'US')] } }),
        offer(3),
      ],
      smartLinks: [smartLink(1, [entry(1, 1, { routing_value: 1 }), entry(2, 2, { routing_value: 2 }), entry(3, 3, { routing_value: 3 })])],
    });
    const p1Capped: StateView = { ...allClear, capReached: (offerId) => offerId === 1 };

    it('a US click skips the capped P1 (reason 2) and is delivered to P2', () => {
      const decision = decide(snapshot, 1, 1, context(), p1Capped, seededRng(1));
      expect(decision).toMatchObject({ outcome: 'routed', entry_id: 2, skipped: [{ entry_id: 1, reason: 2 }] });
    });

    it('a German click fails geo on P1 and P2 (reason 9) and is delivered to P3', () => {
      const german = context({ geo: { country: 'DE', region: null, city: 'Berlin', time_zone: 'Europe/Berlin' } });
      const decision = decide(snapshot, 1, 1, german, p1Capped, seededRng(1));
      expect(decision).toMatchObject({ entry_id: 3, skipped: [{ entry_id: 1, reason: 9 }, { entry_id: 2, reason: 9 }] });
    });
  });

  describe('catch-all with an unapproved partner', () => {
    // Partner 1 is approved for nothing; K (offer 8) is the catch-all, with fail traffic to F (offer 7).
    const approvalOnly = { visibility: 'require_approval' as const };
    const build = (kRules: Rule[], fRules: Rule[], globalUrl: string | null) =>
      snapshotOf({
        offers: [
          offer(1, approvalOnly),
          offer(2, approvalOnly),
          offer(7, { ...approvalOnly, ruleset: { rules: fRules } }),
          offer(8, { ...approvalOnly, ruleset: { rules: kRules }, fail_traffic: { mode: 'priority', destinations: [{ type: 'offer', id: 7 }] } }),
        ],
        smartLinks: [smartLink(1, [entry(1, 1), entry(2, 2)], { catch_all_offer_id: 8 })],
        settings: { global_fail_redirect_url: globalUrl, version: 1 },
      });

    it('every entry is skipped as not approved (902) and the catch-all K takes the click, approval waived', () => {
      const decision = decide(build([], [], null), 1, 1, context(), allClear, seededRng(1));
      expect(decision).toMatchObject({ outcome: 'catch_all', offer_id: 8, skipped: [{ entry_id: 1, reason: 902 }, { entry_id: 2, reason: 902 }] });
    });

    it("if K rejects on geo, K's fail traffic sends the click to F, approval waived", () => {
      const decision = decide(build([include('country', 'DE')], [], null), 1, 1, context(), allClear, seededRng(1));
      expect(decision).toMatchObject({ outcome: 'fail_traffic', offer_id: 7, reason: 20 });
      expect(decision?.trace.catch_all).toMatchObject({ eligible: false, reason: 9 });
      expect(decision?.trace.fail_traffic?.ended).toBe('destination');
    });

    it('if F rejects too, the click goes to the global fail URL, or a blank page without one', () => {
      const rejecting = [include('country', 'DE')];
      const withGlobal = decide(build(rejecting, rejecting, 'https://fail.example/?t={transaction_id}'), 1, 1, context(), allClear, seededRng(1));
      expect(withGlobal).toMatchObject({ outcome: 'no_match', reason: 20, offer_id: null, destination_url: `https://fail.example/?t=${'0123456789abcdef'.repeat(2)}` });
      const blank = decide(build(rejecting, rejecting, null), 1, 1, context(), allClear, seededRng(1));
      expect(blank).toMatchObject({ outcome: 'no_match', destination_url: null });
    });
  });

  it("a bundled offer's fail traffic is ignored: a click failing entry E continues with the link's next entry", () => {
    const snapshot = snapshotOf({
      offers: [
        offer(1, { ruleset: { rules: [include('country', 'DE')] }, fail_traffic: { mode: 'priority', destinations: [{ type: 'offer', id: 26 }] } }),
        offer(2),
        offer(26),
      ],
      smartLinks: [smartLink(1, [entry(1, 1), entry(2, 2)])],
    });
    const decision = decide(snapshot, 1, 1, context(), allClear, seededRng(1));
    expect(decision).toMatchObject({ outcome: 'routed', entry_id: 2, offer_id: 2 });
    expect(decision?.trace.fail_traffic).toBeNull();
  });

  it('a paused smart link gives an invalid click, reason 901, to the global fail redirect', () => {
    const snapshot = snapshotOf({
      offers: [offer(1)],
      smartLinks: [smartLink(1, [entry(1, 1)], { status: 'paused' })],
      settings: { global_fail_redirect_url: 'https://fail.example/', version: 1 },
    });
    expect(decide(snapshot, 1, 1, context(), allClear, seededRng(1))).toMatchObject({ outcome: 'invalid', reason: 901, destination_url: 'https://fail.example/' });
  });

  it("a suspended partner's click is invalid, reason 906, to the global fail redirect, even with a catch-all", () => {
    const snapshot = snapshotOf({
      offers: [offer(1), offer(2)],
      partners: [{ ...partner(1), status: 'suspended' }, partner(2)],
      smartLinks: [smartLink(1, [entry(1, 1)], { catch_all_offer_id: 2 })],
      settings: { global_fail_redirect_url: 'https://fail.example/', version: 1 },
    });
    const decision = decide(snapshot, 1, 1, context(), allClear, seededRng(1));
    expect(decision).toMatchObject({ outcome: 'invalid', reason: 906, offer_id: null, destination_url: 'https://fail.example/' });
    expect(decision?.trace.notes).toEqual(['partner suspended']);
    // The same link still routes an active partner's visitors.
    expect(decide(snapshot, 1, 2, context(), allClear, seededRng(1))).toMatchObject({ outcome: 'routed', offer_id: 1 });
  });

  it('a deleted or unknown smart link has no decision (the caller answers 404)', () => {
    const snapshot = snapshotOf({ offers: [offer(1)], smartLinks: [smartLink(1, [entry(1, 1)], { status: 'deleted' })] });
    expect(decide(snapshot, 1, 1, context(), allClear, seededRng(1))).toBeNull();
    expect(decide(snapshot, 2, 1, context(), allClear, seededRng(1))).toBeNull();
  });
});
