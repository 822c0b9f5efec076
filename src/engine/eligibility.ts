import type { CandidateTrace, CheckName, CheckResult } from './decision.js';
import { REASON } from './reasons.js';
import { evaluateRuleset, type CompiledRuleset } from './ruleset.js';
import type { RouteScope } from './scope.js';
import type { AccessView, OfferView } from './snapshot.js';
import { visitorKey } from './visitor-key.js';

// Check results are shared constants: a decision pushes references, it does not allocate them.
const result = (check: CheckName, pass: boolean, reason: number | null): CheckResult => Object.freeze({ check, pass, reason });
const PASS = {
  offer_status: result('offer_status', true, null),
  offer_url: result('offer_url', true, null),
  partner_access: result('partner_access', true, null),
  caps: result('caps', true, null),
  duplicate: result('duplicate', true, null),
  already_converted: result('already_converted', true, null),
};
const FAIL = {
  inactive: result('offer_status', false, REASON.OFFER_INACTIVE),
  expired: result('offer_status', false, REASON.EXPIRED),
  offerUrl: result('offer_url', false, REASON.OFFER_URL_INACTIVE),
  blocked: result('partner_access', false, REASON.BLOCKED),
  notApproved: result('partner_access', false, REASON.NOT_APPROVED),
  cap: result('caps', false, REASON.OFFER_CAP),
  duplicate: result('duplicate', false, REASON.DUPLICATE),
  converted: result('already_converted', false, REASON.ALREADY_CONVERTED),
};

/** Appends a check's result to the trace; false (and the reason set) when it failed. */
function record(trace: CandidateTrace, check: CheckResult): boolean {
  trace.checks.push(check);
  if (!check.pass) trace.reason = check.reason;
  return check.pass;
}

/** What is being considered: an entry, the catch-all, or a fail-traffic destination. */
export interface Target {
  entryId: number | null;
  offerId: number;
  offerUrlId: number | null;
  entryRuleset: CompiledRuleset | null;
  /** The catch-all and its fail-traffic destinations do not need partner approval (SPEC §7.1). */
  waiveApproval: boolean;
}

function statusCheck(scope: RouteScope, offer: OfferView | undefined): CheckResult {
  if (offer === undefined || offer.status !== 'active') return FAIL.inactive;
  return offer.expiresAtMs !== null && scope.ctx.time_ms >= offer.expiresAtMs ? FAIL.expired : PASS.offer_status;
}

function offerUrlCheck(scope: RouteScope, offer: OfferView, offerUrlId: number | null): CheckResult {
  if (offerUrlId === null) return PASS.offer_url;
  const url = scope.snapshot.offerUrls.get(offerUrlId);
  if (url === undefined || url.offerId !== offer.id || url.status !== 'active') return FAIL.offerUrl;
  return url.partnerIds !== null && !url.partnerIds.has(scope.partnerId) ? FAIL.offerUrl : PASS.offer_url;
}

function accessCheck(offer: OfferView, access: AccessView | undefined, waiveApproval: boolean): CheckResult {
  // A block is an explicit decision about this partner, so even the waived catch-all honours it.
  if (access?.state === 'blocked') return FAIL.blocked;
  if (waiveApproval || offer.visibility === 'public' || access?.state === 'approved') return PASS.partner_access;
  return FAIL.notApproved;
}

function capCheck(scope: RouteScope, offer: OfferView, access: AccessView | undefined): CheckResult {
  if (!offer.hasHardCaps && !(access?.hasHardCaps ?? false)) return PASS.caps;
  return scope.state.capReached(offer.id, scope.partnerId) ? FAIL.cap : PASS.caps;
}

function memoryChecks(scope: RouteScope, offer: OfferView, checks: CheckResult[]): CheckResult {
  const filter = offer.duplicateFilter;
  if (!filter.enabled && !offer.blockAlreadyConverted) {
    checks.push(PASS.duplicate);
    return PASS.already_converted;
  }
  const key = visitorKey(filter.identifier, scope.ctx, offer.id);
  const duplicate = filter.enabled && key !== null && scope.state.isDuplicate(offer.id, key, filter.windowHours);
  if (duplicate) return FAIL.duplicate;
  checks.push(PASS.duplicate);
  const converted = offer.blockAlreadyConverted && key !== null && scope.state.alreadyConverted(offer.id, key);
  return converted ? FAIL.converted : PASS.already_converted;
}

/**
 * Runs the checks of SPEC §4.7 in order and stops at the first failure, whose reason code makes
 * the target ineligible. Stateful questions (caps, memory) come last and only when needed.
 */
export function evaluateTarget(scope: RouteScope, target: Target): CandidateTrace {
  const offer = scope.snapshot.offers.get(target.offerId);
  const trace: CandidateTrace = {
    entry_id: target.entryId,
    offer_id: target.offerId,
    offer_url_id: target.offerUrlId,
    eligible: false,
    reason: null,
    checks: [],
  };
  if (!record(trace, statusCheck(scope, offer)) || offer === undefined) return trace;
  const access = scope.snapshot.access.get(offer.id)?.get(scope.partnerId);
  trace.eligible =
    record(trace, offerUrlCheck(scope, offer, target.offerUrlId)) &&
    record(trace, accessCheck(offer, access, target.waiveApproval)) &&
    (target.entryRuleset === null || record(trace, evaluateRuleset(target.entryRuleset, scope.input))) &&
    record(trace, evaluateRuleset(offer.ruleset, scope.input)) &&
    record(trace, capCheck(scope, offer, access)) &&
    record(trace, memoryChecks(scope, offer, trace.checks));
  return trace;
}
