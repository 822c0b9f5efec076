export interface BackoffPolicy {
  /** Delay after the first failed attempt, before jitter. */
  baseMs: number;
  /** No delay exceeds this. */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 30_000, capMs: 60 * 60_000 };

/**
 * The wait before the next attempt after `attempts` failed ones: `baseMs × 2^(attempts−1)`, capped,
 * then jittered into its upper half ("equal jitter") so that postbacks which failed together (a
 * partner outage) do not all retry in the same instant, yet never retry sooner than half the delay.
 * `random` returns a number in [0, 1).
 */
export function backoffDelayMs(attempts: number, random: () => number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const exponent = Math.max(0, attempts - 1);
  // 2^exponent overflows nothing here: the cap is applied before it could matter (exponent ≤ 40).
  const delay = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(exponent, 40));
  return Math.round(delay / 2 + random() * (delay / 2));
}
