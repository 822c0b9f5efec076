import type { Trace } from './decision.js';
import { evaluateTarget } from './eligibility.js';
import { followFailTraffic } from './fail-traffic.js';
import { offerLanding, type FailPath, type Resolution } from './resolution.js';
import type { RouteScope } from './scope.js';
import { selectEntry } from './select-entry.js';
import type { SmartLinkView } from './snapshot.js';

/**
 * Routes one active smart link (SPEC §4.3 steps 2–4, §7.1): its entries, then its catch-all with
 * approval waived, then the catch-all's fail traffic. Entries' own fail traffic is never used.
 */
export function routeLink(scope: RouteScope, link: SmartLinkView, path: FailPath): Resolution {
  const selection = selectEntry(scope, link);
  const trace: Trace = {
    smart_link_id: link.id,
    routing: link.routing,
    order: selection.order,
    draw: selection.draw,
    candidates: selection.candidates,
    catch_all: null,
    fail_traffic: null,
    kpi: selection.kpi,
    notes: [],
  };
  const { winner, skipped } = selection;
  if (winner !== null) {
    const landing = offerLanding(scope.snapshot, winner.offerId, winner.offerUrlId);
    return { outcome: 'routed', entryId: winner.id, landing, skipped, trace };
  }
  if (link.catchAllOfferId === null) return { outcome: 'no_match', entryId: null, landing: null, skipped, trace };

  const offerId = link.catchAllOfferId;
  trace.catch_all = evaluateTarget(scope, { entryId: null, offerId, offerUrlId: null, entryRuleset: null, waiveApproval: true });
  if (trace.catch_all.eligible) {
    return { outcome: 'catch_all', entryId: null, landing: offerLanding(scope.snapshot, offerId, null), skipped, trace };
  }
  const offer = scope.snapshot.offers.get(offerId);
  const fail = offer ? followFailTraffic(scope, offer, path, (next, nextPath) => routeLink(scope, next, nextPath)) : null;
  trace.fail_traffic = fail?.trace ?? null;
  const landing = fail?.landing ?? null;
  return { outcome: landing ? 'fail_traffic' : 'no_match', entryId: null, landing, skipped, trace };
}
