import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 10 * 1024;
const ID_RANDOM_BYTES = 10;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

/** 80 fresh random bits as hex; bytes come from a refilled pool because one CSPRNG call per click is costly. */
function randomHex(): string {
  if (offset + ID_RANDOM_BYTES > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + ID_RANDOM_BYTES);
  offset += ID_RANDOM_BYTES;
  return hex;
}

/**
 * A click's transaction id: 32 lower-case hex characters, 12 of the click time in milliseconds
 * followed by 20 random ones (80 bits). The time prefix makes new ids sort after old ones, so the
 * clicks table's primary-key index grows at its end instead of touching a random page per click —
 * that random page write, not the fsync, was the cost of each group commit. 80 random bits keep
 * the id unguessable for a postback.
 */
export function newTransactionId(nowMs: number): string {
  return Math.max(0, Math.floor(nowMs)).toString(16).padStart(12, '0').slice(-12) + randomHex();
}
