import type { FailTrafficStep, FailTrafficTrace } from './decision.js';
import { evaluateTarget } from './eligibility.js';
import { REASON } from './reasons.js';
import { MAX_FAIL_TRAFFIC_HOPS, offerLanding, type FailPath, type Landing, type Resolution } from './resolution.js';
import type { RouteScope } from './scope.js';
import type { FailDestinationView, OfferView, SmartLinkView } from './snapshot.js';
import { weightedOrder } from './weighted.js';

/** Routes a smart link reached as a destination; injected to keep this module free of a cycle. */
export type RouteNested = (link: SmartLinkView, path: FailPath) => Resolution;

interface Attempt {
  step: FailTrafficStep;
  /** Set when the tree ends here: at a destination (which may be "nothing", for a smart link) or a loop. */
  end: { reason: 'destination' | 'cycle'; landing: Landing | null } | null;
}

const notViable = (type: FailTrafficStep['type'], id: number | null, reason: number | null): Attempt => ({
  step: { type, id, viable: false, reason, candidate: null, nested: null },
  end: null,
});

function tryOffer(scope: RouteScope, destination: FailDestinationView, offerId: number, offerUrlId: number | null): Attempt {
  const candidate = evaluateTarget(scope, { entryId: null, offerId, offerUrlId, entryRuleset: null, waiveApproval: true });
  const landing = candidate.eligible ? offerLanding(scope.snapshot, offerId, offerUrlId) : null;
  const step: FailTrafficStep = {
    type: destination.type, id: destination.id, viable: landing !== null, reason: candidate.reason, candidate, nested: null,
  };
  return { step, end: landing ? { reason: 'destination', landing } : null };
}

function trySmartLink(scope: RouteScope, id: number, path: FailPath, routeNested: RouteNested): Attempt {
  if (path.visited.has(id)) return { ...notViable('smart_link', id, null), end: { reason: 'cycle', landing: null } };
  const link = scope.snapshot.smartLinks.get(id);
  if (link === undefined || link.status !== 'active') return notViable('smart_link', id, REASON.SMART_LINK_INACTIVE);
  const nested = routeNested(link, { hop: path.hop, visited: new Set([...path.visited, id]) });
  // Reaching a smart link is terminal: whatever it decides, the original tree is not resumed.
  return {
    step: { type: 'smart_link', id, viable: nested.landing !== null, reason: null, candidate: null, nested: nested.trace },
    end: { reason: 'destination', landing: nested.landing },
  };
}

function tryDestination(scope: RouteScope, destination: FailDestinationView, path: FailPath, routeNested: RouteNested): Attempt {
  const { type, id } = destination;
  if (type === 'url') {
    if (destination.url === null) return notViable(type, id, null);
    const step: FailTrafficStep = { type, id: null, viable: true, reason: null, candidate: null, nested: null };
    return { step, end: { reason: 'destination', landing: { offer: null, offerUrlId: null, template: destination.url } } };
  }
  if (id === null) return notViable(type, id, null);
  if (type === 'smart_link') return trySmartLink(scope, id, path, routeNested);
  if (type === 'offer') return tryOffer(scope, destination, id, null);
  const url = scope.snapshot.offerUrls.get(id);
  return url === undefined ? notViable(type, id, REASON.OFFER_URL_INACTIVE) : tryOffer(scope, destination, url.offerId, id);
}

/**
 * The fail traffic of a rejecting catch-all (SPEC §7.4): destinations in priority order or by
 * weighted draws, partner approval waived, at most MAX_FAIL_TRAFFIC_HOPS hops, and a smart link
 * already on the path ends the chain (a cycle) instead of looping. Returns null without fail traffic.
 */
export function followFailTraffic(
  scope: RouteScope,
  offer: OfferView,
  path: FailPath,
  routeNested: RouteNested,
): { landing: Landing | null; trace: FailTrafficTrace } | null {
  const failTraffic = offer.failTraffic;
  if (failTraffic === null) return null;
  const hop = path.hop + 1;
  const trace: FailTrafficTrace = { offer_id: offer.id, mode: failTraffic.mode, hop, steps: [], ended: 'exhausted' };
  if (hop > MAX_FAIL_TRAFFIC_HOPS) {
    trace.ended = 'hop_limit';
    return { landing: null, trace };
  }
  const order =
    failTraffic.mode === 'priority'
      ? [...failTraffic.destinations].sort((a, b) => a.routingValue - b.routingValue)
      : weightedOrder(failTraffic.destinations, (d) => d.routingValue, scope.rng);
  for (const destination of order) {
    const attempt = tryDestination(scope, destination, { hop, visited: path.visited }, routeNested);
    trace.steps.push(attempt.step);
    if (attempt.end !== null) {
      trace.ended = attempt.end.reason;
      return { landing: attempt.end.landing, trace };
    }
  }
  return { landing: null, trace };
}
