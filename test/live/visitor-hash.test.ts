import { describe, expect, it } from 'vitest';
import { visitorHasher } from '../../src/live/state/visitor-hash.js';

describe('visitor key hashing', () => {
  it('gives the same key the same 53-bit number within a process, and distinct keys distinct numbers', () => {
    const hash = visitorHasher(12345);
    const seen = new Map<number, string>();
    for (let i = 0; i < 200_000; i++) {
      const key = `cookie:${i.toString(16).padStart(12, '0')}${'7'.repeat(20)}`;
      const value = hash(key);
      expect(Number.isSafeInteger(value) && value >= 0).toBe(true);
      expect(seen.get(value) ?? key).toBe(key);
      seen.set(value, key);
    }
    expect(seen.size).toBe(200_000);
    expect(hash('ip:203.0.113.7')).toBe(visitorHasher(12345)('ip:203.0.113.7'));
  });

  it('depends on the process seed, so numbers cannot be aimed at from outside', () => {
    expect(visitorHasher(1)('ip:203.0.113.7')).not.toBe(visitorHasher(2)('ip:203.0.113.7'));
  });
});
