import { describe, expect, it } from 'vitest';
import type { SmartLinkRecord } from '../../src/domain/records.js';
import { MAX_FAIL_TRAFFIC_HOPS, allClear, decide, seededRng } from '../../src/engine/index.js';
import { context, entry, offer, offerUrl, smartLink, snapshotOf } from './fixtures.js';

const GLOBAL = 'https://global-fail.example/';
const rejectAll = { ruleset: { rules: [{ dimension: 'country' as const, op: 'include' as const, values: ['ZZ'] }] } };

/** Link n has one rejecting entry and a rejecting catch-all (offer 100+n) whose fail traffic goes to link next(n). */
function chain(length: number, next: (n: number) => number) {
  const offers = [offer(1, rejectAll)];
  const smartLinks: SmartLinkRecord[] = [];
  for (let n = 1; n <= length; n++) {
    offers.push(offer(100 + n, { ...rejectAll, fail_traffic: { mode: 'priority', destinations: [{ type: 'smart_link', id: next(n) }] } }));
    smartLinks.push(smartLink(n, [entry(n, 1)], { catch_all_offer_id: 100 + n }));
  }
  return { offers, smartLinks, settings: { global_fail_redirect_url: GLOBAL, version: 1 } };
}

describe('catch-all fail traffic (SPEC §7.4)', () => {
  it('priority mode tries destinations by routing value and skips the ones that reject', () => {
    const snapshot = snapshotOf({
      offers: [
        offer(1, rejectAll), offer(2, rejectAll), offer(3), offer(4),
        offer(9, { ...rejectAll, fail_traffic: { mode: 'priority', destinations: [
          { type: 'offer', id: 4, routing_value: 3 }, { type: 'offer', id: 2, routing_value: 1 }, { type: 'offer_url', id: 31, routing_value: 2 },
        ] } }),
      ],
      offerUrls: [offerUrl(31, 3)],
      smartLinks: [smartLink(1, [entry(1, 1)], { catch_all_offer_id: 9 })],
    });
    const decision = decide(snapshot, 1, 1, context(), allClear, seededRng(1));
    expect(decision).toMatchObject({ outcome: 'fail_traffic', offer_id: 3, offer_url_id: 31, destination_url: 'https://offer3.example/u31' });
    expect(decision?.trace.fail_traffic?.steps.map((s) => [s.id, s.viable])).toEqual([[2, false], [31, true]]);
  });

  it('a url destination is used as written, with macros', () => {
    const snapshot = snapshotOf({
      offers: [offer(1, rejectAll), offer(9, { ...rejectAll, fail_traffic: { mode: 'weight', destinations: [{ type: 'url', url: 'https://x.example/?s={sub1}', routing_value: 1 }] } })],
      smartLinks: [smartLink(1, [entry(1, 1)], { catch_all_offer_id: 9 })],
    });
    const decision = decide(snapshot, 1, 1, context({ sub1: 'a b' }), allClear, seededRng(1));
    expect(decision).toMatchObject({ outcome: 'fail_traffic', offer_id: null, destination_url: 'https://x.example/?s=a%20b' });
  });

  it('a smart-link destination routes through that link', () => {
    const { offers, smartLinks, settings } = chain(1, () => 2);
    const snapshot = snapshotOf({ offers: [...offers, offer(5)], smartLinks: [...smartLinks, smartLink(2, [entry(20, 5)])], settings });
    expect(decide(snapshot, 1, 1, context(), allClear, seededRng(1))).toMatchObject({ outcome: 'fail_traffic', offer_id: 5 });
  });

  it('a cycle of smart links is detected and ends at the global fail redirect', () => {
    const snapshot = snapshotOf(chain(3, (n) => (n % 3) + 1)); // 1 → 2 → 3 → 1
    const decision = decide(snapshot, 1, 1, context(), allClear, seededRng(1));
    expect(decision).toMatchObject({ outcome: 'no_match', reason: 20, destination_url: GLOBAL });
    const third = decision?.trace.fail_traffic?.steps[0]?.nested?.fail_traffic?.steps[0]?.nested?.fail_traffic;
    expect(third?.ended).toBe('cycle');
  });

  it(`a chain longer than ${MAX_FAIL_TRAFFIC_HOPS} hops stops at the hop limit and the global fail redirect`, () => {
    const snapshot = snapshotOf(chain(10, (n) => n + 1));
    const decision = decide(snapshot, 1, 1, context(), allClear, seededRng(1));
    expect(decision).toMatchObject({ outcome: 'no_match', destination_url: GLOBAL });
    let trace = decision?.trace.fail_traffic;
    let hops = 0;
    while (trace?.steps[0]?.nested) {
      hops++;
      trace = trace.steps[0].nested.fail_traffic;
    }
    expect(hops).toBe(MAX_FAIL_TRAFFIC_HOPS);
    expect(trace?.ended).toBe('hop_limit');
  });

  it('weight mode never sends traffic to a destination of weight 0', () => {
    const snapshot = snapshotOf({
      offers: [offer(1, rejectAll), offer(2), offer(3), offer(9, { ...rejectAll, fail_traffic: { mode: 'weight', destinations: [
        { type: 'offer', id: 2, routing_value: 0 }, { type: 'offer', id: 3, routing_value: 5 },
      ] } })],
      smartLinks: [smartLink(1, [entry(1, 1)], { catch_all_offer_id: 9 })],
    });
    const rng = seededRng(9);
    for (let i = 0; i < 200; i++) expect(decide(snapshot, 1, 1, context(), allClear, rng)?.offer_id).toBe(3);
  });
});
