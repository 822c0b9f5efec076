/** A source of uniform numbers in [0, 1). Randomness is an input so decisions can be replayed. */
export interface Rng {
  next(): number;
}

/**
 * mulberry32: a tiny 32-bit PRNG, good enough for traffic splitting and fully reproducible from
 * its seed (explain's `seed`, tests, simulations). Not for secrets.
 */
export function seededRng(seed: number): Rng {
  let state = seed >>> 0;
  return {
    next(): number {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}
