import { randomInt } from 'node:crypto';

/**
 * Visitor keys are kept as 53-bit numbers rather than strings: a remembered click then costs about
 * 60 bytes instead of about 260, which is what keeps a day of cookie keys (one per click) in memory
 * at a million clicks a day. The hash is cyrb53 (two 32-bit multiply-xorshift lanes), seeded per
 * process at random so that nobody outside can aim two visitors at the same number; memory is
 * rebuilt from stored clicks at start, so a new seed loses nothing. With a million keys in a window
 * the chance that any two share a number is about 1 in 9,000; a collision makes one visitor look
 * like another (a duplicate flag), nothing more.
 */
export function visitorHasher(seed = randomInt(0, 2 ** 32)): (key: string) => number {
  return (key: string): number => {
    let h1 = 0xdeadbeef ^ seed;
    let h2 = 0x41c6ce57 ^ seed;
    for (let i = 0; i < key.length; i++) {
      const ch = key.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
    h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
    h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return 4294967296 * (2097151 & h2) + (h1 >>> 0);
  };
}
