/**
 * Read-only questions the engine asks about counters and memory it does not own (SPEC §8, §9).
 * Implementations answer from memory (the click path never waits on I/O); the engine never writes.
 */
export interface StateView {
  /** A hard cap of the offer, or of this partner on the offer, is reached for the current period. */
  capReached(offerId: number, partnerId: number): boolean;
  /** The visitor (by `visitorKey`) clicked the offer within the last `windowHours`, any partner. */
  isDuplicate(offerId: number, visitorKey: string, windowHours: number): boolean;
  /** The visitor (by `visitorKey`) already converted on the offer. */
  alreadyConverted(offerId: number, visitorKey: string): boolean;
}

/** A state view with no caps reached and no memory: every visitor is new. */
export const allClear: StateView = Object.freeze({
  capReached: () => false,
  isDuplicate: () => false,
  alreadyConverted: () => false,
});
