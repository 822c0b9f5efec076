import type { ClickOutcome, SkippedEntry } from '../domain/click.js';
import type { Trace } from './decision.js';
import type { Template } from './macros.js';
import type { OfferView, Snapshot } from './snapshot.js';

/** Where a click lands before macros: an offer (base URL or one of its URLs) or an external URL. */
export type Landing =
  | { offer: OfferView; offerUrlId: number | null; template: Template }
  | { offer: null; offerUrlId: null; template: Template };

/** The routing result of one smart link, before the destination is rendered. */
export interface Resolution {
  outcome: ClickOutcome;
  entryId: number | null;
  /** null = nothing accepted the click: the global fail redirect or a blank page. */
  landing: Landing | null;
  skipped: SkippedEntry[];
  trace: Trace;
}

/** Hops already taken through fail traffic, and the smart links on the way (for cycle detection). */
export interface FailPath {
  hop: number;
  visited: ReadonlySet<number>;
}

/** Fail traffic may pass through at most this many destinations in a chain (SPEC §7.4). */
export const MAX_FAIL_TRAFFIC_HOPS = 5;

/** The landing of an eligible offer (or one of its URLs); null only if the snapshot lacks it. */
export function offerLanding(snapshot: Snapshot, offerId: number, offerUrlId: number | null): Landing | null {
  const offer = snapshot.offers.get(offerId);
  if (offer === undefined) return null;
  if (offerUrlId === null) return { offer, offerUrlId, template: offer.destination };
  const url = snapshot.offerUrls.get(offerUrlId);
  return url === undefined ? null : { offer, offerUrlId, template: url.destination };
}
