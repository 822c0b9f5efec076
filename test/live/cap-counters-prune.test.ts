import { afterEach, describe, expect, it, vi } from 'vitest';
import { CapCounters, offerScope, partnerScope } from '../../src/live/state/cap-counters.js';
import { periodKeys } from '../../src/live/state/period-key.js';

afterEach(() => vi.restoreAllMocks());

describe('the minute prune of cap counters', () => {
  it("works out each zone's periods once, not once or twice per counter scope (it runs on the click path's thread)", () => {
    const counters = new CapCounters();
    const now = Date.parse('2025-06-24T12:00:00.000Z');
    const keys = periodKeys(now, 'America/New_York');
    for (let offer = 1; offer <= 200; offer++) {
      counters.add(offerScope(offer), keys, 'clicks', 1);
      for (let partner = 1; partner <= 20; partner++) counters.add(partnerScope(offer, partner), keys, 'clicks', 1);
    }
    const formats = vi.spyOn(Intl.DateTimeFormat.prototype, 'formatToParts');
    counters.prune(now + 60_000, () => 'America/New_York');
    // 4,200 scopes in one zone: the current minute and the minute an hour ahead, once each.
    expect(formats.mock.calls.length).toBeLessThanOrEqual(4);
    expect(counters.used(offerScope(1), keys.daily, 'clicks')).toBe(1);
  });
});
