import { describe, expect, it } from 'vitest';
import { newTransactionId } from '../../src/http/redirect/transaction-id.js';

describe('transaction ids', () => {
  it('are 32 lower-case hex characters', () => {
    expect(newTransactionId(Date.UTC(2026, 10, 25))).toMatch(/^[0-9a-f]{32}$/);
  });

  it('sort by click time, so the clicks index grows at its end', () => {
    const earlier = newTransactionId(1_800_000_000_000);
    const later = newTransactionId(1_800_000_000_001);
    expect(earlier < later).toBe(true);
  });

  it('differ for clicks in the same millisecond', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newTransactionId(1_800_000_000_000)));
    expect(ids.size).toBe(10_000);
  });
});
