import type { KpiStateRecord } from '../../src/domain/kpi.js';
import type { OfferRecord, SmartLinkRecord } from '../../src/domain/records.js';
import type { KpiSettings } from '../../src/domain/schemas/smart-link.js';
import { buildSnapshot, type KpiAlgorithm, type Snapshot, type SnapshotData } from '../../src/engine/index.js';
import { START_MS, type World } from './world.js';

export const LINK_ID = 1;
export const PARTNER_ID = 1;
const META = { version: 1, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' };

/** Routing of a simulated link: a KPI link with an algorithm, or plain equal weights. */
export type LinkRouting = { kind: 'kpi'; algorithm: KpiAlgorithm } | { kind: 'uniform' };

const offerOf = (id: number): OfferRecord => ({
  ...META, id, advertiser_id: 1, name: `offer ${id}`, status: 'active', visibility: 'public',
  destination_url: `https://o${id}.example/?t={transaction_id}`, ruleset: null, caps: [], caps_timezone: 'UTC',
  duplicate_filter: {}, block_already_converted: false, redirect_mode: 'standard', deep_link: {},
  conversion_method: 'server_postback', allow_duplicate_conversions: false, payout: { type: 'fixed', value: 1 },
  revenue: { type: 'fixed', value: 2 }, attribution_window_days: 90, postback_secret_hash: null, fail_traffic: null, expires_at: null,
});

export function kpiSettingsOf(world: World, algorithm: KpiAlgorithm): KpiSettings {
  const s = world.scenario;
  return {
    metric: s.metric, goal: null, run_frequency_hours: s.run_frequency_hours, lookback_hours: s.lookback_hours,
    collection_threshold: s.collection_threshold, algorithm,
  };
}

/**
 * The link as the store would hold it: entry i (id i + 1) sends to offer i + 1, and its entry
 * ruleset allows the entry's `source_id` values, so eligibility is the engine's own targeting.
 * KPI entries all weigh 0: the collection phase then splits evenly, like the uniform strategy.
 */
function smartLinkOf(world: World, routing: LinkRouting): SmartLinkRecord {
  return {
    ...META, id: LINK_ID, name: world.scenario.name, status: 'active', tracking_domain_id: null,
    routing: routing.kind === 'kpi' ? 'kpi' : 'weight', catch_all_offer_id: null, visible_to_partners: false,
    kpi: routing.kind === 'kpi' ? kpiSettingsOf(world, routing.algorithm) : null,
    entries: world.allowedSources.map((sources, i) => ({
      id: i + 1, offer_id: i + 1, offer_url_id: null, routing_value: routing.kind === 'kpi' ? 0 : 1,
      ruleset: sources === null ? null : { rules: [{ dimension: 'source_id', op: 'include', values: [...sources] }] },
    })),
  };
}

/** Builds snapshots of one simulated link; only the KPI state changes between them. */
export function snapshotBuilder(world: World, routing: LinkRouting): (state: KpiStateRecord | null) => Snapshot {
  const base: Omit<SnapshotData, 'kpiStates'> = {
    offers: Array.from({ length: world.entryCount }, (_, i) => offerOf(i + 1)),
    offerUrls: [],
    partners: [{ ...META, id: PARTNER_ID, name: 'partner', status: 'active', postback_url: null }],
    offerAccess: [],
    smartLinks: [smartLinkOf(world, routing)],
    trackingDomains: [],
    settings: { global_fail_redirect_url: null, version: 1 },
  };
  return (state) => buildSnapshot({ ...base, kpiStates: state === null ? [] : [state] });
}

/** The link's KPI state after a run at `nowMs` (simulated ms since START_MS). */
export const kpiState = (model: KpiStateRecord['model'], runId: number | null, nowMs: number): KpiStateRecord => ({
  smart_link_id: LINK_ID,
  epoch: 1,
  epoch_started_at: new Date(START_MS).toISOString(),
  model,
  model_run_id: runId,
  last_run_at: new Date(START_MS + nowMs).toISOString(),
});
