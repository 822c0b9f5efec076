import type { AccessState } from '../domain/records.js';
import type { DeepLinkPolicy } from './deep-link.js';
import type { EntryPosterior, KpiLinkView, KpiMetric } from './kpi/model.js';
import type { CompiledRuleset } from './ruleset.js';
import type { Template } from './macros.js';
import type { VisitorIdentifier } from './visitor-key.js';

export type RedirectMode = 'standard' | 'single_meta_refresh' | 'double_meta_refresh';

export interface FailDestinationView {
  readonly type: 'offer' | 'offer_url' | 'smart_link' | 'url';
  /** The offer, offer URL or smart link id; null for `url`. */
  readonly id: number | null;
  /** The external URL of a `url` destination. */
  readonly url: Template | null;
  readonly routingValue: number;
}

export interface FailTrafficView {
  readonly mode: 'priority' | 'weight';
  /** In list order; priority order is derived per use because weight mode draws afresh. */
  readonly destinations: readonly FailDestinationView[];
}

/** One cap (SPEC §8), normalised: `limit` counts clicks or conversions, or micros for money. */
export interface CapView {
  readonly metric: 'clicks' | 'conversions' | 'payout' | 'revenue';
  readonly period: 'daily' | 'weekly' | 'monthly' | 'global';
  readonly limit: number;
  readonly mode: 'hard' | 'soft';
}

export interface OfferView {
  readonly id: number;
  readonly advertiserId: number;
  readonly status: 'active' | 'paused' | 'pending' | 'deleted';
  /** The offer's advertiser is active: an inactive (or deleted) advertiser's offers take no traffic (reason 903). */
  readonly advertiserActive: boolean;
  readonly expiresAtMs: number | null;
  readonly visibility: 'public' | 'require_approval' | 'private';
  readonly ruleset: CompiledRuleset;
  /** Whether any offer-level cap is hard: only then is the state view asked. */
  readonly hasHardCaps: boolean;
  /** Every offer-level cap; counted by the live state, not by the engine. */
  readonly caps: readonly CapView[];
  /** IANA zone whose calendar sets the daily, weekly (from Monday) and monthly periods. */
  readonly capsTimeZone: string;
  readonly duplicateFilter: { readonly enabled: boolean; readonly identifier: VisitorIdentifier; readonly windowHours: number };
  readonly blockAlreadyConverted: boolean;
  readonly redirectMode: RedirectMode;
  /** Lifetime of the click path's offer cookie (SPEC §10.2). */
  readonly attributionWindowDays: number;
  readonly deepLink: DeepLinkPolicy;
  readonly destination: Template;
  readonly failTraffic: FailTrafficView | null;
}

export interface OfferUrlView {
  readonly id: number;
  readonly offerId: number;
  readonly status: 'active' | 'paused' | 'deleted';
  /** null = every partner may use the URL. */
  readonly partnerIds: ReadonlySet<number> | null;
  readonly destination: Template;
}

/** What is being considered: an entry, the catch-all, or a fail-traffic destination. */
export interface Target {
  entryId: number | null;
  offerId: number;
  /** The offer when the caller already holds it (entries do); otherwise it is looked up by id. */
  offer?: OfferView | undefined;
  offerUrlId: number | null;
  entryRuleset: CompiledRuleset | null;
  /** The catch-all and its fail-traffic destinations do not need partner approval (SPEC §7.1). */
  waiveApproval: boolean;
}

export interface EntryView {
  readonly id: number;
  /** Position in the link's entry list: the tie-breaker of priority routing. */
  readonly position: number;
  readonly offerId: number;
  /** The entry's offer, resolved when the snapshot is built (undefined if it is missing). */
  readonly offer: OfferView | undefined;
  readonly offerUrlId: number | null;
  readonly routingValue: number;
  readonly ruleset: CompiledRuleset;
  /** The entry as the eligibility checks take it, built once with the snapshot instead of per decision. */
  readonly target: Target;
}

export interface SmartLinkView {
  readonly id: number;
  readonly status: 'active' | 'paused' | 'deleted';
  readonly routing: 'priority' | 'weight' | 'kpi';
  readonly entries: readonly EntryView[];
  /** Entries sorted by (routing value, position), computed once for priority routing. */
  readonly priorityOrder: readonly EntryView[];
  readonly catchAllOfferId: number | null;
  readonly trackingDomainId: number | null;
  /** Every entry has routing value 0: weight draws of the KPI collection phase then treat them as equal. */
  readonly weightsAllZero: boolean;
  /** KPI settings and the model in force; null unless routing is `kpi`. */
  readonly kpi: KpiLinkView | null;
  /** The model prepared for the click path; null unless routing is `kpi`. */
  readonly kpiPlan: KpiPlan | null;
}

/** A KPI model resolved against the link's entries once, when the snapshot is built. */
export type KpiPlan =
  | { readonly kind: 'collecting' }
  /** Every entry, the model's order first, the rest in priority order. */
  | { readonly kind: 'ranking'; readonly ordered: readonly EntryView[] }
  /** Posteriors indexed by entry position. */
  | { readonly kind: 'thompson'; readonly metric: KpiMetric; readonly goal: number | null; readonly posteriors: readonly (EntryPosterior | undefined)[] };

export interface AccessView {
  readonly state: AccessState;
  /** Whether this partner has a hard cap on the offer. */
  readonly hasHardCaps: boolean;
  /** This partner's caps on the offer. */
  readonly caps: readonly CapView[];
}

export interface TrackingDomainView {
  readonly id: number;
  readonly host: string;
  readonly scheme: 'https' | 'http';
  readonly isDefault: boolean;
}

/**
 * All routing configuration, immutable and indexed for the click path: every lookup a decision
 * makes is a Map read, and every ruleset and URL is already compiled.
 */
export interface Snapshot {
  readonly smartLinks: ReadonlyMap<number, SmartLinkView>;
  readonly offers: ReadonlyMap<number, OfferView>;
  readonly offerUrls: ReadonlyMap<number, OfferUrlView>;
  readonly partners: ReadonlyMap<number, { readonly id: number; readonly status: 'active' | 'suspended' }>;
  /** offer id → partner id → access. */
  readonly access: ReadonlyMap<number, ReadonlyMap<number, AccessView>>;
  readonly trackingDomains: ReadonlyMap<number, TrackingDomainView>;
  readonly globalFailRedirect: Template | null;
}
