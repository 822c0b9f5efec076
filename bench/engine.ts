/**
 * Engine benchmark (SPEC §13.2): routing decisions per second for 5-, 50- and 500-entry weight
 * links whose offers and entries carry rulesets (weight routing checks every entry, so this is the
 * worst case), beside a baseline: a 1-entry link without rules. Also context building with a warm
 * and a cold user-agent cache. Lean decisions (the click path's, without the per-entry trace) are
 * timed too, and once more with every offer excluding a 10,000-network IP blocklist. Each figure is the median of several timed repeats after a warm-up.
 * Options: --repeats N (default 7).
 */
import type { OfferRecord, SmartLinkRecord } from '../src/domain/records.js';
import type { Ruleset } from '../src/domain/schemas/ruleset.js';
import { createContextBuilder, createUserAgentParser, openGeoLookup } from '../src/context/index.js';
import { allClear, buildSnapshot, decide, seededRng, type ClickContext, type Snapshot } from '../src/engine/index.js';
import { checkOptions, median, option, round } from './support.js';

const META = { version: 1, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' };
const COUNTRIES = ['US', 'DE', 'FR', 'GB', 'ES', 'IT', 'NL', 'BR', 'IN', 'JP'];
const OSES = ['iOS', 'Android', 'Windows', 'macOS'];
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1';

/** Offer i targets three countries and an OS; every third entry adds its own device and day-parting rules. */
function offerRuleset(i: number): Ruleset {
  return {
    rules: [
      { dimension: 'country', op: 'include', values: [0, 1, 2].map((k) => COUNTRIES[(i + k) % COUNTRIES.length] ?? 'US') },
      { dimension: 'os', op: 'include', values: [OSES[i % OSES.length] ?? 'iOS', 'Android'] },
      { dimension: 'ip', op: 'exclude', values: ['10.0.0.0/8', '2001:db8::/32'] },
    ],
  };
}
const entryRuleset = (i: number): Ruleset | null =>
  i % 3 !== 0 ? null : {
    rules: [{ dimension: 'device_type', op: 'include', values: ['mobile', 'tablet'] }, { dimension: 'sub1', op: 'exclude', values: ['blocked'] }],
    day_parting: { timezone: 'Europe/Berlin', windows: [{ days: [0, 1, 2, 3, 4, 5, 6], start: '00:00', end: '24:00' }] },
  };

/** An IP blocklist as networks list them: 10,000 IPv4 and IPv6 networks of several prefix lengths. */
const BLOCKLIST: NonNullable<Ruleset['rules']> = Array.from({ length: 10 }, (_, r) => ({
  dimension: 'ip' as const,
  op: 'exclude' as const,
  values: Array.from({ length: 1000 }, (_, i) =>
    i % 4 === 3 ? `2001:${(i * 7 + r).toString(16)}:${r.toString(16)}::/48` : `${(i % 200) + 11}.${(i * 13 + r) % 256}.${r}.0/${r % 2 === 0 ? 24 : 16}`),
}));

function snapshotWith(entries: number, withRules: boolean, blocklist = false): Snapshot {
  const offers: OfferRecord[] = Array.from({ length: entries }, (_, i) => ({
    ...META, id: i + 1, advertiser_id: 1, name: `offer ${i}`, status: 'active', visibility: 'public',
    destination_url: `https://o${i}.example/?t={transaction_id}&s={sub1}&c={country}`,
    ruleset: withRules ? { rules: [...(offerRuleset(i).rules ?? []), ...(blocklist ? BLOCKLIST : [])] } : null, caps: [], caps_timezone: 'UTC', duplicate_filter: {}, block_already_converted: false,
    redirect_mode: 'standard', deep_link: {}, conversion_method: 'server_postback', allow_duplicate_conversions: false,
    payout: { type: 'fixed', value: 1 }, revenue: { type: 'fixed', value: 2 }, attribution_window_days: 90,
    postback_secret_hash: null, fail_traffic: null, expires_at: null,
  }));
  const link: SmartLinkRecord = {
    ...META, id: 1, name: 'bench', status: 'active', tracking_domain_id: null, routing: 'weight', catch_all_offer_id: null,
    visible_to_partners: false, kpi: null,
    entries: offers.map((o, i) => ({ id: i + 1, offer_id: o.id, offer_url_id: null, routing_value: 1 + (i % 5), ruleset: withRules ? entryRuleset(i) : null })),
  };
  return buildSnapshot({
    offers, offerUrls: [], partners: [{ ...META, id: 1, name: 'p', status: 'active', postback_url: null }], offerAccess: [],
    smartLinks: [link], trackingDomains: [], settings: { global_fail_redirect_url: null, version: 1 }, kpiStates: [],
  });
}

const CONTEXT: ClickContext = {
  transaction_id: 'f'.repeat(32), time_ms: Date.UTC(2026, 2, 4, 12), ip: '8.8.8.8', user_agent: IPHONE,
  device: { os: 'iOS', os_version: '17.2', device_type: 'mobile', browser: 'Safari', brand: 'Apple', language: 'en' },
  is_bot: false, geo: { country: 'US', region: null, city: null, time_zone: null },
  sub1: 'campaign', sub2: null, sub3: null, sub4: null, sub5: null, source_id: null, deep_link: null, idfa: null, gaid: null,
  offer_cookies: new Map(),
};

/** Median microseconds per call of `fn` over `repeats` timed rounds of `iterations` calls. */
function medianUs(repeats: number, iterations: number, fn: (i: number) => unknown): number {
  for (let i = 0; i < iterations; i++) fn(i); // warm-up: let the JIT settle
  const rounds: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn(i);
    rounds.push(Number(process.hrtime.bigint() - started) / 1000 / iterations);
  }
  return median(rounds);
}

/**
 * Median over rounds of (µs per call of `fn`) / (µs per call of `baseline`), both timed in every
 * round: on a shared machine whose speed drifts, the ratio holds where the absolute figures do not.
 */
function medianRatio(repeats: number, iterations: number, fn: () => unknown, baselineIterations: number, baseline: () => unknown): number {
  const perCall = (count: number, call: () => unknown): number => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < count; i++) call();
    return Number(process.hrtime.bigint() - started) / count;
  };
  const ratios: number[] = [];
  for (let r = 0; r < repeats; r++) ratios.push(perCall(iterations, fn) / perCall(baselineIterations, baseline));
  return median(ratios);
}

const fixed = (value: number, digits = 2) => round(value, digits);

export async function main(args: string[]): Promise<void> {
  checkOptions('engine', args, { values: ['repeats'] });
  const repeats = option(args, 'repeats', 7, 1);
  const figures: Record<string, number> = {};
  const rng = seededRng(1);
  const baseline = snapshotWith(1, false);
  const baselineDecision = () => decide(baseline, 1, 1, CONTEXT, allClear, rng);
  figures.us_per_decision_baseline_1 = fixed(medianUs(repeats, 200_000, baselineDecision));
  for (const size of [5, 50, 500]) {
    const snapshot = snapshotWith(size, true);
    const us = medianUs(repeats, Math.max(2_000, 400_000 / size), () => decide(snapshot, 1, 1, CONTEXT, allClear, rng));
    figures[`us_per_decision_${size}`] = fixed(us);
    figures[`decisions_per_s_${size}`] = Math.round(1e6 / us);
    // The click path's lean decision: the same routing without the per-entry trace.
    const lean = medianUs(repeats, Math.max(2_000, 400_000 / size), () => decide(snapshot, 1, 1, CONTEXT, allClear, rng, { lean: true }));
    figures[`us_per_lean_decision_${size}`] = fixed(lean);
    const ratio = medianRatio(repeats, Math.max(2_000, 400_000 / size), () => decide(snapshot, 1, 1, CONTEXT, allClear, rng), 50_000, baselineDecision);
    figures[`ratio_${size}_to_baseline`] = fixed(ratio);
    process.stdout.write(`engine: ${size} entries: ${fixed(us)} µs per decision, ${Math.round(1e6 / us)} decisions/s, ${fixed(ratio)} × the 1-entry baseline (median of per-round ratios); lean (click path) ${fixed(lean)} µs\n`);
  }

  // Every offer of a 50-entry link also excludes a 10,000-network IP blocklist: against the same link
  // without it, what a long CIDR list costs a click.
  const blocked = snapshotWith(50, true, true);
  const withList = medianUs(repeats, 8_000, () => decide(blocked, 1, 1, CONTEXT, allClear, rng, { lean: true }));
  figures.us_per_lean_decision_50_blocklist = fixed(withList);
  const plain = snapshotWith(50, true);
  figures.blocklist_cost_ratio = fixed(medianRatio(repeats, 8_000, () => decide(blocked, 1, 1, CONTEXT, allClear, rng, { lean: true }), 8_000, () => decide(plain, 1, 1, CONTEXT, allClear, rng, { lean: true })));
  process.stdout.write(`engine: 50 entries whose offers exclude 10,000 networks: ${fixed(withList)} µs per lean decision\n`);

  const geo = await openGeoLookup();
  const warm = createContextBuilder({ userAgents: createUserAgentParser(), geo });
  const raw = { transaction_id: 'f'.repeat(32), time_ms: 0, ip: '8.8.8.8', user_agent: IPHONE, accept_language: 'en-US,en;q=0.9', query: { sub1: 'x' } };
  figures.us_per_context_warm = fixed(medianUs(repeats, 50_000, () => warm.build(raw)));
  // Cold: every user agent is new, so each build parses (the cache is too small to help).
  const cold = createContextBuilder({ userAgents: createUserAgentParser(1), geo });
  figures.us_per_context_cold = fixed(medianUs(repeats, 5_000, (i) => cold.build({ ...raw, user_agent: `${IPHONE} v${i % 2 === 0 ? i : -i}` })));
  process.stdout.write(`engine: context build ${figures.us_per_context_warm} µs warm, ${figures.us_per_context_cold} µs cold\n`);

  process.stdout.write(`BENCH engine ${Object.entries(figures).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
}
