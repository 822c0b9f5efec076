/** Below this many observed delays the link's delay model is not trusted and no correction is made. */
const MIN_DELAYS_FOR_CORRECTION = 10;

/**
 * The share of a click's eventual conversions expected to have arrived `ageMs` after the click,
 * as the empirical distribution of this link's own click-to-conversion delays. Recent clicks
 * have had less time to convert; counting them in full would make whichever entry received the
 * most recent traffic look worse than it is. The observed delays are those of conversions that
 * already arrived, so long delays are under-represented while a link is young: the correction
 * then errs on the side of too little, never too much.
 */
export function arrivalCurve(delaysMs: readonly number[]): (ageMs: number) => number {
  if (delaysMs.length < MIN_DELAYS_FOR_CORRECTION) return () => 1;
  const sorted = Float64Array.from(delaysMs).sort();
  const n = sorted.length;
  return (ageMs: number): number => {
    // Count of delays <= ageMs, by binary search.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((sorted[mid] ?? 0) <= ageMs) lo = mid + 1;
      else hi = mid;
    }
    // Half a conversion of slack keeps a brand-new click from counting as exactly nothing.
    return (lo + 0.5) / (n + 1);
  };
}
