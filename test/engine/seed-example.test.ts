import { beforeAll, describe, expect, it } from 'vitest';
import { openContextBuilder, type ContextBuilder } from '../../src/context/index.js';
import { allClear, decide, seededRng } from '../../src/engine/index.js';
import { entry, offer, offerUrl, smartLink, snapshotOf } from './fixtures.js';

const AGENTS = {
  iOS: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1',
  Android: 'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36',
  desktop: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  bot: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  unknown: 'Nokia6300/2.0 (05.00) Profile/MIDP-2.0 Configuration/CLDC-1.1',
};

// Offers 1 (iOS), 2 (Android), 3 (desktop), each with three creative URLs of weight 1; offer 9 is the catch-all.
const OS_OFFERS = [
  { id: 1, rules: [{ dimension: 'os' as const, op: 'include' as const, values: ['iOS'] }] },
  { id: 2, rules: [{ dimension: 'os' as const, op: 'include' as const, values: ['Android'] }] },
  { id: 3, rules: [{ dimension: 'device_type' as const, op: 'include' as const, values: ['desktop'] }] },
];
const snapshot = snapshotOf({
  offers: [...OS_OFFERS.map((o) => offer(o.id, { ruleset: { rules: o.rules } })), offer(9)],
  offerUrls: OS_OFFERS.flatMap((o) => [1, 2, 3].map((u) => offerUrl(o.id * 10 + u, o.id))),
  smartLinks: [
    smartLink(1, OS_OFFERS.flatMap((o) => [1, 2, 3].map((u) => entry(o.id * 10 + u, o.id, { offer_url_id: o.id * 10 + u, routing_value: 1 }))), {
      routing: 'weight',
      catch_all_offer_id: 9,
    }),
  ],
});

describe('the seed example: three OS offers with three weighted creatives each', () => {
  let contexts: ContextBuilder;
  beforeAll(async () => {
    contexts = await openContextBuilder();
  });
  const clickFrom = (agent: string) =>
    contexts.build({ transaction_id: 'a'.repeat(32), time_ms: 0, ip: '8.8.8.8', user_agent: agent, accept_language: 'en', query: {} });

  it.each([['iOS', 1], ['Android', 2], ['desktop', 3]] as const)('a real %s user agent lands on its offer, split evenly over its creatives', (kind, offerId) => {
    const rng = seededRng(offerId);
    const counts = new Map<number | null, number>();
    const clicks = 12_000;
    const ctx = clickFrom(AGENTS[kind]);
    const offers = new Set<number | null>();
    for (let i = 0; i < clicks; i++) {
      const decision = decide(snapshot, 1, 1, ctx, allClear, rng);
      offers.add(decision?.offer_id ?? null);
      counts.set(decision?.offer_url_id ?? null, (counts.get(decision?.offer_url_id ?? null) ?? 0) + 1);
    }
    expect([...offers]).toEqual([offerId]);
    for (const u of [1, 2, 3]) expect(Math.abs((counts.get(offerId * 10 + u) ?? 0) / clicks - 1 / 3)).toBeLessThan(0.02);
  });

  it.each(['bot', 'unknown'] as const)('a %s user agent falls to the catch-all', (kind) => {
    const decision = decide(snapshot, 1, 1, clickFrom(AGENTS[kind]), allClear, seededRng(1));
    expect(decision).toMatchObject({ outcome: 'catch_all', offer_id: 9, reason: 20 });
    expect(decision?.skipped).toHaveLength(9);
  });
});
