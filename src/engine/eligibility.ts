import type { CandidateTrace, CheckName, CheckResult } from './decision.js';
import { REASON } from './reasons.js';
import { evaluateRuleset } from './ruleset.js';
import type { RouteScope } from './scope.js';
import type { AccessView, OfferView, Target } from './snapshot.js';
import { lastClickKey, visitorKey } from './visitor-key.js';

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

function statusCheck(scope: RouteScope, offer: OfferView | undefined): CheckResult {
  if (offer === undefined || offer.status !== 'active' || !offer.advertiserActive) return FAIL.inactive;
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

/** The duplicate and already-converted checks (§4.7 steps 7–8), written from `checks[n]`; returns the new count. */
function memoryChecks(scope: RouteScope, offer: OfferView, checks: CheckResult[], n: number): number {
  const filter = offer.duplicateFilter;
  if (!filter.enabled && !offer.blockAlreadyConverted) {
    checks[n] = PASS.duplicate;
    checks[n + 1] = PASS.already_converted;
    return n + 2;
  }
  const lastClick = filter.enabled ? lastClickKey(filter.identifier, scope.ctx, offer.id) : null;
  if (lastClick !== null && scope.state.isDuplicate(offer.id, lastClick, filter.windowHours)) {
    checks[n] = FAIL.duplicate;
    return n + 1;
  }
  checks[n] = PASS.duplicate;
  const key = offer.blockAlreadyConverted ? visitorKey(filter.identifier, scope.ctx, offer.id) : null;
  const converted = key !== null && scope.state.alreadyConverted(offer.id, key);
  checks[n + 1] = converted ? FAIL.converted : PASS.already_converted;
  return n + 2;
}

/** Runs the checks in order into `checks`, stopping after the first failure; returns how many ran. */
function runChecks(scope: RouteScope, target: Target, offer: OfferView | undefined, checks: CheckResult[]): number {
  let check = statusCheck(scope, offer);
  checks[0] = check;
  if (!check.pass || offer === undefined) return 1;
  const access = scope.snapshot.access.get(offer.id)?.get(scope.partnerId);
  let n = 1;
  check = offerUrlCheck(scope, offer, target.offerUrlId);
  checks[n++] = check;
  if (!check.pass) return n;
  check = accessCheck(offer, access, target.waiveApproval);
  checks[n++] = check;
  if (!check.pass) return n;
  if (target.entryRuleset !== null) {
    check = evaluateRuleset(target.entryRuleset, scope.input);
    checks[n++] = check;
    if (!check.pass) return n;
  }
  check = evaluateRuleset(offer.ruleset, scope.input);
  checks[n++] = check;
  if (!check.pass) return n;
  check = capCheck(scope, offer, access);
  checks[n++] = check;
  if (!check.pass) return n;
  return memoryChecks(scope, offer, checks, n);
}

// The checks of the target being evaluated are written here, then copied out at their exact count:
// an empty array grown by push reserves 17 slots per candidate (on a 500-entry link most of a
// decision's garbage), and truncating a presized array costs a runtime call per candidate.
// Sharing is safe: evaluation is synchronous, the array is rewritten from index 0 and copied out at
// once, and the state view (a read-only query) never calls back into the engine.
// Eight slots: every §4.7 check with an entry ruleset. Pre-filled so the array stays packed.
const scratch: CheckResult[] = Array.from({ length: 8 }, () => PASS.offer_status);

/** Runs the checks into `scratch`; returns how many ran. The last one decides: checks stop at the first failure. */
function checkInScratch(scope: RouteScope, target: Target): number {
  return runChecks(scope, target, target.offer ?? scope.snapshot.offers.get(target.offerId), scratch);
}

/**
 * Runs the checks of SPEC §4.7 in order and stops at the first failure, whose reason code makes
 * the target ineligible. Stateful questions (caps, memory) come last and only when needed.
 */
export function evaluateTarget(scope: RouteScope, target: Target): CandidateTrace {
  const count = checkInScratch(scope, target);
  const checks = scratch.slice(0, count);
  const last = checks[count - 1] ?? FAIL.inactive;
  return {
    entry_id: target.entryId,
    offer_id: target.offerId,
    offer_url_id: target.offerUrlId,
    eligible: last.pass,
    reason: last.pass ? null : last.reason,
    checks,
  };
}

/** The same checks as evaluateTarget without the trace: the reason code of the failing one, null when eligible. */
export function ineligibleReason(scope: RouteScope, target: Target): number | null {
  const last = scratch[checkInScratch(scope, target) - 1] ?? FAIL.inactive;
  return last.pass ? null : (last.reason ?? 0);
}
