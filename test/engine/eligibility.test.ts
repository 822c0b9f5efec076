import { describe, expect, it } from 'vitest';
import { allClear, decide, seededRng, type StateView } from '../../src/engine/index.js';
import { NOON_WEDNESDAY_MS, access, context, entry, offer, offerUrl, smartLink, snapshotOf } from './fixtures.js';

const remembering: StateView = { capReached: () => false, isDuplicate: () => true, alreadyConverted: () => true };

/** The reason one entry (offer 1, optionally URL 11) is skipped for partner 1, or null if it wins. */
function reasonFor(setup: Parameters<typeof snapshotOf>[0], state: StateView = allClear, ctx = context()): number | null {
  const entries = setup.smartLinks ?? [smartLink(1, [entry(1, 1)])];
  const snapshot = snapshotOf({ ...setup, smartLinks: entries });
  const decision = decide(snapshot, 1, 1, ctx, state, seededRng(1));
  return decision?.outcome === 'routed' ? null : (decision?.skipped[0]?.reason ?? -1);
}

describe('entry eligibility (SPEC §4.7): the first failing check names the reason', () => {
  it.each(['paused', 'pending', 'deleted'] as const)('a %s offer is skipped as inactive (903)', (status) => {
    expect(reasonFor({ offers: [offer(1, { status })] })).toBe(903);
  });

  it('an offer past expires_at at click time is skipped as expired (1); before it, it routes', () => {
    const expiresAt = new Date(NOON_WEDNESDAY_MS).toISOString();
    expect(reasonFor({ offers: [offer(1, { expires_at: expiresAt })] })).toBe(1);
    expect(reasonFor({ offers: [offer(1, { expires_at: expiresAt })] }, allClear, context({ time_ms: NOON_WEDNESDAY_MS - 1 }))).toBeNull();
  });

  it('a paused offer URL, or one restricted to other partners, is skipped (904)', () => {
    const link = [smartLink(1, [entry(1, 1, { offer_url_id: 11 })])];
    expect(reasonFor({ offers: [offer(1)], offerUrls: [offerUrl(11, 1, { status: 'paused' })], smartLinks: link })).toBe(904);
    expect(reasonFor({ offers: [offer(1)], offerUrls: [offerUrl(11, 1, { partner_ids: [2] })], smartLinks: link })).toBe(904);
    expect(reasonFor({ offers: [offer(1)], offerUrls: [offerUrl(11, 1, { partner_ids: [1] })], smartLinks: link })).toBeNull();
  });

  it('a blocked partner is skipped (14) even on a public offer', () => {
    expect(reasonFor({ offers: [offer(1)], offerAccess: [access(1, 1, 'blocked')] })).toBe(14);
  });

  it.each(['require_approval', 'private'] as const)('a %s offer needs approval (902 otherwise)', (visibility) => {
    expect(reasonFor({ offers: [offer(1, { visibility })] })).toBe(902);
    expect(reasonFor({ offers: [offer(1, { visibility })], offerAccess: [access(1, 1, 'pending')] })).toBe(902);
    expect(reasonFor({ offers: [offer(1, { visibility })], offerAccess: [access(1, 1, 'approved')] })).toBeNull();
  });

  it('the entry ruleset is checked before the offer ruleset', () => {
    const link = [smartLink(1, [entry(1, 1, { ruleset: { rules: [{ dimension: 'os', op: 'include', values: ['Android'] }] } })])];
    const offers = [offer(1, { ruleset: { rules: [{ dimension: 'country', op: 'include', values: ['DE'] }] } })];
    expect(reasonFor({ offers, smartLinks: link })).toBe(4);
    expect(reasonFor({ offers })).toBe(9);
  });

  it('a reached hard cap (offer or partner) skips the entry (2); soft caps never ask', () => {
    const capped: StateView = { ...allClear, capReached: () => true };
    expect(reasonFor({ offers: [offer(1, { caps: [{ metric: 'clicks', period: 'daily', limit: 5 }] })] }, capped)).toBe(2);
    expect(reasonFor({ offers: [offer(1)], offerAccess: [access(1, 1, 'approved', [{ metric: 'clicks', period: 'global', limit: 1, mode: 'hard' }])] }, capped)).toBe(2);
    expect(reasonFor({ offers: [offer(1, { caps: [{ metric: 'clicks', period: 'daily', limit: 5, mode: 'soft' }] })] }, capped)).toBeNull();
  });

  it('the duplicate filter (21) and the already-converted filter (27) apply only when enabled and the visitor is identifiable', () => {
    const ipFilter = { duplicate_filter: { enabled: true, identifier: 'ip' as const } };
    expect(reasonFor({ offers: [offer(1, ipFilter)] }, remembering)).toBe(21);
    expect(reasonFor({ offers: [offer(1, ipFilter)] }, remembering, context({ ip: null }))).toBeNull();
    expect(reasonFor({ offers: [offer(1)] }, remembering)).toBeNull();
    expect(reasonFor({ offers: [offer(1, { block_already_converted: true, duplicate_filter: { identifier: 'ip' } })] }, remembering)).toBe(27);
  });

  it('a duplicate routed with the filter off is marked not unique ({unique_click} = 0)', () => {
    const snapshot = snapshotOf({ offers: [offer(1, { destination_url: 'https://a.example/?u={unique_click}', duplicate_filter: { identifier: 'ip' } })], smartLinks: [smartLink(1, [entry(1, 1)])] });
    const decision = decide(snapshot, 1, 1, context(), remembering, seededRng(1));
    expect(decision).toMatchObject({ outcome: 'routed', is_unique: false, destination_url: 'https://a.example/?u=0' });
  });

  it('the catch-all honours an explicit block even though approval is waived', () => {
    const snapshot = snapshotOf({ offers: [offer(1, { status: 'paused' }), offer(2)], offerAccess: [access(2, 1, 'blocked')], smartLinks: [smartLink(1, [entry(1, 1)], { catch_all_offer_id: 2 })] });
    const decision = decide(snapshot, 1, 1, context(), allClear, seededRng(1));
    expect(decision).toMatchObject({ outcome: 'no_match', reason: 20 });
    expect(decision?.trace.catch_all?.reason).toBe(14);
  });
});
