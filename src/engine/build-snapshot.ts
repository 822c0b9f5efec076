import type {
  AdvertiserRecord, OfferAccessRecord, OfferRecord, OfferUrlRecord, PartnerRecord, SettingsRecord, SmartLinkRecord, TrackingDomainRecord,
} from '../domain/records.js';
import type { KpiStateRecord } from '../domain/kpi.js';
import { numberToMicros } from '../domain/money.js';
import type { Cap, FailTraffic } from '../domain/schemas/offer.js';
import type { KpiSettings } from '../domain/schemas/smart-link.js';
import { compileDeepLinkPolicy } from './deep-link.js';
import type { KpiLinkView, KpiModel, KpiSettingsView } from './kpi/model.js';
import { goalOf } from './kpi/metric.js';
import { posteriorsInForce } from './kpi/thompson.js';
import { compileTemplate } from './macros.js';
import { byPriority } from './priority.js';
import { rulesetCompiler, type CompiledRuleset } from './ruleset.js';
import type { CheckName } from './decision.js';
import type {
  AccessView, CapView, EntryView, FailTrafficView, KpiPlan, OfferUrlView, OfferView, SmartLinkView, Snapshot,
} from './snapshot.js';

type CompileRuleset = ReturnType<typeof rulesetCompiler>;

/** Every configuration record the engine routes with, as the store returns them. */
export interface SnapshotData {
  /** Their status only: an inactive advertiser's offers take no traffic. Absent = every advertiser active. */
  advertisers?: readonly AdvertiserRecord[];
  offers: readonly OfferRecord[];
  offerUrls: readonly OfferUrlRecord[];
  partners: readonly PartnerRecord[];
  offerAccess: readonly OfferAccessRecord[];
  smartLinks: readonly SmartLinkRecord[];
  trackingDomains: readonly TrackingDomainRecord[];
  settings: SettingsRecord;
  /** The optimisation state of KPI links; a KPI link without one is collecting in epoch 0. */
  kpiStates: readonly KpiStateRecord[];
}

// Caps without a mode default to hard (the schema's default), so a missing mode still blocks.
const hasHardCap = (caps: readonly Cap[] | undefined): boolean => (caps ?? []).some((cap) => (cap.mode ?? 'hard') === 'hard');

const MONEY_METRICS: ReadonlySet<string> = new Set(['payout', 'revenue']);

/** Money limits become micros so counters compare integers; an unstorable limit never caps. */
function capViews(caps: readonly Cap[] | undefined): CapView[] {
  return (caps ?? []).map((cap) => ({
    metric: cap.metric,
    period: cap.period,
    limit: MONEY_METRICS.has(cap.metric) ? (numberToMicros(cap.limit) ?? Number.MAX_SAFE_INTEGER) : cap.limit,
    mode: cap.mode ?? 'hard',
  }));
}

function failTrafficView(failTraffic: FailTraffic | null): FailTrafficView | null {
  if (failTraffic === null) return null;
  return {
    mode: failTraffic.mode,
    destinations: failTraffic.destinations.map((d) => ({
      type: d.type,
      id: d.id ?? null,
      url: d.type === 'url' && d.url !== undefined ? compileTemplate(d.url) : null,
      routingValue: d.routing_value ?? 0,
    })),
  };
}

function offerView(offer: OfferRecord, compileRuleset: CompileRuleset, inactiveAdvertisers: ReadonlySet<number>): OfferView {
  const filter = offer.duplicate_filter;
  const expiresAtMs = offer.expires_at === null ? null : Date.parse(offer.expires_at);
  return {
    id: offer.id,
    advertiserId: offer.advertiser_id,
    status: offer.status,
    advertiserActive: !inactiveAdvertisers.has(offer.advertiser_id),
    expiresAtMs: expiresAtMs !== null && Number.isNaN(expiresAtMs) ? null : expiresAtMs,
    visibility: offer.visibility,
    ruleset: compileRuleset(offer.ruleset, 'offer_ruleset'),
    hasHardCaps: hasHardCap(offer.caps),
    caps: capViews(offer.caps),
    capsTimeZone: offer.caps_timezone ?? 'UTC',
    duplicateFilter: {
      enabled: filter.enabled ?? false,
      identifier: filter.identifier ?? 'cookie',
      windowHours: filter.window_hours ?? 24,
    },
    blockAlreadyConverted: offer.block_already_converted,
    redirectMode: offer.redirect_mode,
    attributionWindowDays: offer.attribution_window_days,
    deepLink: compileDeepLinkPolicy(offer.deep_link),
    destination: compileTemplate(offer.destination_url),
    failTraffic: failTrafficView(offer.fail_traffic),
  };
}

function offerUrlView(url: OfferUrlRecord): OfferUrlView {
  return {
    id: url.id,
    offerId: url.offer_id,
    status: url.status,
    partnerIds: url.partner_ids === null ? null : new Set(url.partner_ids),
    destination: compileTemplate(url.destination_url),
  };
}

/** KPI settings with the schema's defaults applied (SPEC §5). */
export function kpiSettingsView(settings: KpiSettings): KpiSettingsView {
  return {
    metric: settings.metric,
    goal: goalOf(settings),
    runFrequencyHours: settings.run_frequency_hours ?? 24,
    lookbackHours: settings.lookback_hours ?? 24,
    collectionThreshold: settings.collection_threshold ?? 1000,
    algorithm: settings.algorithm ?? 'thompson',
  };
}

function kpiPlan(model: KpiModel | null, entries: readonly EntryView[], priorityOrder: readonly EntryView[]): KpiPlan {
  if (model === null) return { kind: 'collecting' };
  if (model.algorithm === 'ranking') {
    const byId = new Map(entries.map((e) => [e.id, e]));
    const named = new Set(model.order);
    const ordered = [...model.order.flatMap((id) => byId.get(id) ?? []), ...priorityOrder.filter((e) => !named.has(e.id))];
    return { kind: 'ranking', ordered };
  }
  const posteriorOf = new Map(posteriorsInForce(model).map((p) => [p.entryId, p]));
  return { kind: 'thompson', metric: model.metric, goal: goalOf(model), posteriors: entries.map((e) => posteriorOf.get(e.id)) };
}

function smartLinkView(
  link: SmartLinkRecord,
  offers: ReadonlyMap<number, OfferView>,
  compileRuleset: CompileRuleset,
  kpiState: KpiStateRecord | undefined,
): SmartLinkView {
  const entries: EntryView[] = link.entries.map((entry, position) => {
    // Resolved once here rather than by a Map read per entry per decision (the snapshot is immutable).
    const offer = offers.get(entry.offer_id);
    const ruleset = compileRuleset(entry.ruleset, 'entry_ruleset');
    return {
      id: entry.id,
      position,
      offerId: entry.offer_id,
      offer,
      offerUrlId: entry.offer_url_id,
      routingValue: entry.routing_value,
      ruleset,
      target: { entryId: entry.id, offerId: entry.offer_id, offer, offerUrlId: entry.offer_url_id, entryRuleset: ruleset, waiveApproval: false },
    };
  });
  const priorityOrder = [...entries].sort(byPriority);
  const kpi: KpiLinkView | null =
    link.routing === 'kpi' && link.kpi !== null
      ? { settings: kpiSettingsView(link.kpi), epoch: kpiState?.epoch ?? 0, runId: kpiState?.model_run_id ?? null, model: kpiState?.model ?? null }
      : null;
  return {
    id: link.id,
    status: link.status,
    routing: link.routing,
    entries,
    priorityOrder,
    catchAllOfferId: link.catch_all_offer_id,
    trackingDomainId: link.tracking_domain_id,
    weightsAllZero: entries.every((e) => e.routingValue === 0),
    kpi,
    kpiPlan: kpi === null ? null : kpiPlan(kpi.model, entries, priorityOrder),
  };
}

function accessIndex(records: readonly OfferAccessRecord[], memo: SnapshotMemo | undefined): Map<number, Map<number, AccessView>> {
  const index = new Map<number, Map<number, AccessView>>();
  for (const record of records) {
    let byPartner = index.get(record.offer_id);
    if (!byPartner) index.set(record.offer_id, (byPartner = new Map()));
    byPartner.set(record.partner_id, memoised(memo?.access, record, () => ({ state: record.state, hasHardCaps: hasHardCap(record.caps), caps: capViews(record.caps) })));
  }
  return index;
}

const byId = <R extends { id: number }, V>(records: readonly R[], view: (record: R) => V): Map<number, V> =>
  new Map(records.map((record) => [record.id, view(record)]));

/**
 * What one build keeps for the next: the views and compiled rulesets it made, by the record (or
 * ruleset) object they were made from. Given the same objects again for unchanged records (as the
 * snapshot holder does), a build compiles only what changed: rebuilding a large catalogue whole after
 * each change held the event loop, and so every click, for half a second to seconds (found by review).
 */
export interface SnapshotMemo {
  readonly offers: WeakMap<OfferRecord, OfferView>;
  readonly offerUrls: WeakMap<OfferUrlRecord, OfferUrlView>;
  readonly smartLinks: WeakMap<SmartLinkRecord, SmartLinkView>;
  readonly access: WeakMap<OfferAccessRecord, AccessView>;
  readonly rulesets: Map<CheckName, WeakMap<object, CompiledRuleset>>;
}

export function createSnapshotMemo(): SnapshotMemo {
  return { offers: new WeakMap(), offerUrls: new WeakMap(), smartLinks: new WeakMap(), access: new WeakMap(), rulesets: new Map() };
}

function memoised<K extends object, V>(memo: WeakMap<K, V> | undefined, key: K, make: () => V, valid: (view: V) => boolean = () => true): V {
  const cached = memo?.get(key);
  if (cached !== undefined && valid(cached)) return cached;
  const view = make();
  memo?.set(key, view);
  return view;
}

/**
 * Builds the immutable, pre-indexed snapshot the engine routes with. Pure: same data, same snapshot;
 * with a memo, views of records already seen are reused (they are immutable and depend only on them).
 */
export function buildSnapshot(data: SnapshotData, memo?: SnapshotMemo): Snapshot {
  const global = data.settings.global_fail_redirect_url;
  const dedupe = rulesetCompiler();
  const compileRuleset: CompileRuleset = (ruleset, check) => {
    if (memo === undefined || ruleset === null || ruleset === undefined) return dedupe(ruleset, check);
    let byRuleset = memo.rulesets.get(check);
    if (byRuleset === undefined) memo.rulesets.set(check, (byRuleset = new WeakMap()));
    return memoised(byRuleset, ruleset, () => dedupe(ruleset, check));
  };
  const inactiveAdvertisers = new Set((data.advertisers ?? []).filter((a) => a.status !== 'active').map((a) => a.id));
  const offers = byId(data.offers, (offer) =>
    memoised(memo?.offers, offer, () => offerView(offer, compileRuleset, inactiveAdvertisers),
      (view) => view.advertiserActive === !inactiveAdvertisers.has(offer.advertiser_id)));
  const kpiStates = new Map(data.kpiStates.map((state) => [state.smart_link_id, state]));
  // A link's view holds its entries' offer views: it is reused only while they are the current ones.
  // KPI links are always rebuilt, as their model comes from the KPI state read with each build.
  const linkView = (link: SmartLinkRecord) =>
    memoised(memo?.smartLinks, link, () => smartLinkView(link, offers, compileRuleset, kpiStates.get(link.id)),
      (view) => view.kpi === null && view.entries.every((entry) => entry.offer === offers.get(entry.offerId)));
  return {
    smartLinks: byId(data.smartLinks, linkView),
    offers,
    offerUrls: byId(data.offerUrls, (url) => memoised(memo?.offerUrls, url, () => offerUrlView(url))),
    partners: byId(data.partners, (p) => ({ id: p.id, status: p.status })),
    access: accessIndex(data.offerAccess, memo),
    trackingDomains: byId(data.trackingDomains, (d) => ({ id: d.id, host: d.host, scheme: d.scheme, isDefault: d.is_default })),
    globalFailRedirect: global ? compileTemplate(global) : null,
  };
}
