import { describe, expect, it } from 'vitest';
import { allClear, decide, seededRng, type Rng } from '../../src/engine/index.js';
import { context, entry, offer, smartLink, snapshotOf } from './fixtures.js';

const CLICKS = 100_000;

function shares(weights: number[], rng: Rng, eligibleOnly?: (offerId: number) => boolean): Map<number | null, number> {
  const offers = weights.map((_, i) => offer(i + 1, eligibleOnly && !eligibleOnly(i + 1) ? { status: 'paused' } : {}));
  const entries = weights.map((w, i) => entry(i + 1, i + 1, { routing_value: w }));
  const snapshot = snapshotOf({ offers, smartLinks: [smartLink(1, entries, { routing: 'weight' })] });
  const counts = new Map<number | null, number>();
  const ctx = context();
  for (let i = 0; i < CLICKS; i++) {
    const id = decide(snapshot, 1, 1, ctx, allClear, rng)?.entry_id ?? null;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

describe('weight routing', () => {
  it('over 100,000 seeded clicks each entry receives its weight share within ±1 percentage point, weight 0 none', () => {
    const weights = [50, 30, 15, 5, 0];
    const counts = shares(weights, seededRng(20260304));
    const total = weights.reduce((a, b) => a + b, 0);
    weights.forEach((w, i) => {
      const observed = ((counts.get(i + 1) ?? 0) / CLICKS) * 100;
      expect(Math.abs(observed - (w / total) * 100)).toBeLessThan(1);
    });
    expect(counts.get(5)).toBeUndefined();
  });

  it('weights need not sum to 100 and are shared among eligible entries only', () => {
    // Entry 2 is ineligible: its weight is redistributed proportionally (3:1) over entries 1 and 3.
    const counts = shares([3, 7, 1], seededRng(7), (offerId) => offerId !== 2);
    expect(counts.get(2)).toBeUndefined();
    expect(Math.abs(((counts.get(1) ?? 0) / CLICKS) * 100 - 75)).toBeLessThan(1);
    expect(Math.abs(((counts.get(3) ?? 0) / CLICKS) * 100 - 25)).toBeLessThan(1);
  });

  it('when every eligible entry has weight 0 the click is a no match (reason 20)', () => {
    const snapshot = snapshotOf({ offers: [offer(1)], smartLinks: [smartLink(1, [entry(1, 1, { routing_value: 0 })], { routing: 'weight' })] });
    const decision = decide(snapshot, 1, 1, context(), allClear, seededRng(1));
    expect(decision).toMatchObject({ outcome: 'no_match', reason: 20, entry_id: null, destination_url: null });
  });

  it('the draw is exact: a roll at each boundary lands on the entry that owns it', () => {
    const snapshot = snapshotOf({ offers: [offer(1), offer(2)], smartLinks: [smartLink(1, [entry(1, 1, { routing_value: 1 }), entry(2, 2, { routing_value: 3 })], { routing: 'weight' })] });
    const at = (value: number) => decide(snapshot, 1, 1, context(), allClear, { next: () => value })?.entry_id;
    expect([at(0), at(0.2499), at(0.25), at(0.9999)]).toEqual([1, 1, 2, 2]);
  });
});
