import type { ClickOutcome } from '../domain/click.js';
import type { ClickContext } from './context.js';
import { checkDeepLink } from './deep-link.js';
import type { Decision, Trace } from './decision.js';
import { compileTemplate, renderTemplate, renderTemplateWithin, type MacroFacts } from './macros.js';
import { toMatchInput } from './match-input.js';
import { REASON } from './reasons.js';
import type { Resolution } from './resolution.js';
import type { Rng } from './rng.js';
import { routeLink } from './route-link.js';
import type { RouteScope } from './scope.js';
import type { OfferView, SmartLinkView, Snapshot } from './snapshot.js';
import type { StateView } from './state-view.js';
import { lastClickKey } from './visitor-key.js';

export interface DecideOptions {
  /** Evaluate every entry, also after the winner is known, for a complete explain trace (not with lean). */
  traceAll?: boolean;
  /**
   * Leave the per-entry trace empty: no order, no candidates with their checks, no weight-draw
   * table, no thompson samples. The click path stores only the skipped entries, and building the
   * rest was most of a click's garbage. The choice is the same either way: the same checks run in
   * the same order and the same random numbers are drawn.
   */
  lean?: boolean;
}

// Catch-all and fail-traffic clicks keep reason 20: no entry of the link matched the visitor.
const REASON_OF: Readonly<Record<ClickOutcome, number | null>> = {
  routed: null,
  catch_all: REASON.NO_MATCH,
  fail_traffic: REASON.NO_MATCH,
  no_match: REASON.NO_MATCH,
  invalid: REASON.SMART_LINK_INACTIVE,
};

/**
 * A click that considers no entry: the link is paused (SPEC §4.3 step 1), or the partner is
 * suspended — the way the API offers to stop a partner with traffic, since it cannot be deleted.
 */
function invalidResolution(link: SmartLinkView, note: string): Resolution {
  const trace: Trace = {
    smart_link_id: link.id, routing: link.routing, order: [], draw: null, candidates: [], catch_all: null, fail_traffic: null, kpi: null, notes: [note],
  };
  return { outcome: 'invalid', entryId: null, landing: null, skipped: [], trace };
}

/** Whether this visitor is new for the offer, by the offer's own identifier and window. */
function isUnique(scope: RouteScope, offer: OfferView | null): boolean {
  if (offer === null) return true;
  const { identifier, windowHours } = offer.duplicateFilter;
  const key = lastClickKey(identifier, scope.ctx, offer.id);
  return key === null || !scope.state.isDuplicate(offer.id, key, windowHours);
}

/** Turns a routing result into the decision: destination with macros, deep link, redirect mode. */
function finish(scope: RouteScope, smartLinkId: number, resolution: Resolution, reason = REASON_OF[resolution.outcome]): Decision {
  const { landing, trace } = resolution;
  const offer = landing?.offer ?? null;
  const unique = isUnique(scope, offer);
  const facts: MacroFacts = {
    ctx: scope.ctx,
    smartLinkId,
    partnerId: scope.partnerId,
    offerId: offer?.id ?? null,
    offerUrlId: landing?.offerUrlId ?? null,
    advertiserId: offer?.advertiserId ?? null,
    isUnique: unique,
  };
  let deepLink: Decision['deep_link'] = null;
  let destination: string | null;
  const requested = scope.ctx.deep_link;
  if (landing === null) {
    const global = scope.snapshot.globalFailRedirect;
    destination = global ? renderTemplate(global, facts) : null;
  } else {
    destination = renderTemplate(landing.template, facts);
    if (offer !== null && requested !== null) {
      // The deep link is the partner's text, and partners never learn who the advertiser is.
      const partnerFacts: MacroFacts = { ...facts, advertiserId: null };
      const verdict = checkDeepLink(offer.deepLink, requested, (template, maxLength) => renderTemplateWithin(compileTemplate(template, true), partnerFacts, maxLength));
      deepLink = verdict.ok ? 'used' : 'rejected';
      if (verdict.ok) destination = verdict.url;
      else trace.notes.push(`deep link rejected: ${verdict.why}`);
    }
  }
  // Only an offer can allow a deep link. A click that reached none (a URL destination, the global
  // fail redirect, a blank page) still asked for one, and the click must say it was not used.
  if (offer === null && requested !== null) {
    deepLink = 'rejected';
    trace.notes.push('deep link rejected: the click reached no offer that could allow it');
  }
  const { outcome } = resolution;
  return {
    outcome,
    smart_link_id: smartLinkId,
    entry_id: resolution.entryId,
    offer_id: facts.offerId,
    offer_url_id: facts.offerUrlId,
    advertiser_id: facts.advertiserId,
    reason,
    destination_url: destination,
    redirect_mode: offer?.redirectMode ?? 'standard',
    is_unique: unique,
    deep_link: deepLink,
    kpi_run_id: trace.kpi?.run_id ?? null,
    skipped: resolution.skipped,
    trace,
  };
}

/**
 * Decides where one click on a smart link goes (SPEC §4.3–§4.7, §7). Pure: the snapshot, the
 * context, the state view and the random source are its only inputs, so explain, tests and
 * simulations replay exactly what a real click does. Returns null when the link does not exist
 * or is deleted (the caller answers 404 and stores nothing).
 */
export function decide(
  snapshot: Snapshot,
  smartLinkId: number,
  partnerId: number,
  ctx: ClickContext,
  state: StateView,
  rng: Rng,
  options: DecideOptions = {},
): Decision | null {
  const link = snapshot.smartLinks.get(smartLinkId);
  if (link === undefined || link.status === 'deleted') return null;
  const lean = options.lean ?? false;
  const scope: RouteScope = {
    snapshot, partnerId, ctx, input: toMatchInput(ctx), state, rng, traceAll: !lean && (options.traceAll ?? false), lean,
  };
  if (link.status === 'paused') return finish(scope, link.id, invalidResolution(link, 'smart link paused'));
  if (snapshot.partners.get(partnerId)?.status === 'suspended') {
    return finish(scope, link.id, invalidResolution(link, 'partner suspended'), REASON.PARTNER_SUSPENDED);
  }
  return finish(scope, link.id, routeLink(scope, link, { hop: 0, visited: new Set([link.id]) }));
}
