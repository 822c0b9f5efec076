import type { ClickRecord } from '../domain/click.js';
import type { ConversionRecord, ConversionStatus } from '../domain/conversion.js';
import type { KpiResetReason, KpiRunRecord, KpiStateRecord } from '../domain/kpi.js';
import type { CapNotification, NotificationRecord } from '../domain/notification.js';
import type { PostbackLog } from './outbox.js';
import type { ReportReader } from './report-reader.js';
import type {
  AdvertiserRecord, ApiKeyRecord, Body, OfferAccessRecord, OfferRecord, OfferUrlRecord, PartnerRecord,
  SettingsRecord, SmartLinkBody, SmartLinkRecord, TrackingDomainRecord, TrackingLinkRecord,
} from '../domain/records.js';

export interface ListQuery {
  page: number;
  pageSize: number;
  /** Equality filters on the columns a repository indexes (e.g. `offer_id`, `status`). */
  where?: Readonly<Record<string, string | number | boolean>>;
  /** Rows whose `status` is one of these are left out unless `where.status` asks for them. */
  hideStatuses?: readonly string[];
}

export interface ListResult<R> {
  rows: R[];
  total: number;
}

/** Outcome of an update guarded by an expected version. */
export type UpdateResult<R> = { ok: true; record: R } | { ok: false; reason: 'not_found' | 'conflict' };

/**
 * Which version of a stored record there is, read without its body: every write changes it, so a
 * reader holding the record with the same stamp holds its current content.
 */
export interface RecordStamp {
  id: number;
  version: number;
  updated_at: string;
}

/** Storage of one kind of versioned resource. */
export interface ResourceRepo<R extends { id: number; version: number }, B = Body<R>> {
  insert(body: B): Promise<R>;
  get(id: number): Promise<R | undefined>;
  list(query: ListQuery): Promise<ListResult<R>>;
  /** Replaces the body, bumping `version`; with `expectedVersion` a stale write is refused. */
  update(id: number, body: B, expectedVersion?: number): Promise<UpdateResult<R>>;
  remove(id: number): Promise<boolean>;
  all(): Promise<R[]>;
  /** Every record's stamp, in id order (as `all`), without reading or parsing bodies. */
  stamps(): Promise<RecordStamp[]>;
}

export interface OfferAccessRepo {
  get(offerId: number, partnerId: number): Promise<OfferAccessRecord | undefined>;
  put(record: Omit<OfferAccessRecord, 'version' | 'updated_at'>): Promise<OfferAccessRecord>;
  all(): Promise<OfferAccessRecord[]>;
  /** Every row's key and stamp, in the order of `all`. */
  stamps(): Promise<Pick<OfferAccessRecord, 'offer_id' | 'partner_id' | 'version' | 'updated_at'>[]>;
  removeForPartner(partnerId: number): Promise<void>;
}

export interface ApiKeyRepo {
  insert(key: Omit<ApiKeyRecord, 'id' | 'created_at'>): Promise<ApiKeyRecord>;
  get(id: number): Promise<ApiKeyRecord | undefined>;
  countAdmins(): Promise<number>;
  /** Keys oldest first, a page of them; only one partner's with `partnerId`. */
  list(query: { partnerId?: number; page: number; pageSize: number }): Promise<ListResult<ApiKeyRecord>>;
  removeForPartner(partnerId: number): Promise<void>;
  /** Removes one key; false when there was none with that id. */
  remove(id: number): Promise<boolean>;
}

export interface SettingsRepo {
  get(): Promise<SettingsRecord>;
  put(settings: Omit<SettingsRecord, 'version'>, expectedVersion?: number): Promise<UpdateResult<SettingsRecord>>;
}

/** Server-side secrets shared by every node (e.g. the key that signs redirect hops). */
export interface SecretRepo {
  /** The secret stored under `name`; the first caller's `generate()` wins and is kept. */
  getOrCreate(name: string, generate: () => string): Promise<string>;
}

export interface TrackingLinkRepo {
  insert(link: Omit<TrackingLinkRecord, 'created_at'>): Promise<TrackingLinkRecord>;
  list(query: { smartLinkId: number; partnerId?: number; page: number; pageSize: number }): Promise<ListResult<TrackingLinkRecord>>;
  /** Every tracking link, for the in-memory index the click path resolves tokens from. */
  all(): Promise<TrackingLinkRecord[]>;
}

/** Questions asked before a write so that nothing points at what no longer exists. */
export interface ReferenceQueries {
  /** Live (not deleted) smart links whose entries or catch-all use the offer. */
  smartLinksUsingOffer(offerId: number): Promise<number[]>;
  /** Live smart links whose entries use the offer URL. */
  smartLinksUsingOfferUrl(offerUrlId: number): Promise<number[]>;
  smartLinksOnTrackingDomain(trackingDomainId: number): Promise<number[]>;
  /** The advertiser's offers, and how many of them are not deleted. */
  countOffersOfAdvertiser(advertiserId: number): Promise<{ offers: number; live: number }>;
  /** Whether any stored click (and so any conversion) names the advertiser, whichever advertiser its offer has now. */
  advertiserHasTraffic(advertiserId: number): Promise<boolean>;
  countTrackingLinksOfPartner(partnerId: number): Promise<number>;
}

/** Reads of stored clicks; clicks are written only through the ClickWriter port. */
export interface ClickReader {
  get(transactionId: string): Promise<ClickRecord | undefined>;
}

/** Filters of the conversion list; every one optional, times ISO 8601 UTC. */
export interface ConversionQuery {
  page: number;
  pageSize: number;
  offerId?: number;
  partnerId?: number;
  smartLinkId?: number;
  status?: ConversionStatus;
  /** Inclusive. */
  from?: string;
  /** Exclusive. */
  to?: string;
}

/** Reads of stored conversions, newest first; conversions are written only through the ConversionWriter port. */
export interface ConversionReader {
  list(query: ConversionQuery): Promise<ListResult<ConversionRecord>>;
  get(id: number): Promise<ConversionRecord | undefined>;
  /** The id of the committed conversion holding this idempotency key, or null. */
  idOf(transactionId: string, key: { event_key: string; order_key: string }): Promise<number | null>;
  /** The id of the click's first base conversion (no event), or of its first one for `orderId`; null when none. */
  baseIdOf(transactionId: string, orderId?: string): Promise<number | null>;
}

/** Stored soft-cap notifications (SPEC §8), newest first. */
export interface NotificationRepo {
  /** Stores it unless one with the same key (cap and period) is stored; true when stored. */
  insert(notification: CapNotification, dedupeKey: string): Promise<boolean>;
  list(query: { page: number; pageSize: number }): Promise<ListResult<NotificationRecord>>;
}

/** Routed clicks (or approved and pending conversions) of one offer and partner. */
export interface HistoryTotal {
  offerId: number;
  partnerId: number;
  clicks: number;
  /** Base conversions only; events count toward money caps, not conversion caps. */
  conversions: number;
  payoutMicros: number;
  revenueMicros: number;
}

/** The same sums over one UTC minute (`YYYY-MM-DDTHH:MM`): fine enough for any zone's midnight. */
export interface HistoryBucket extends HistoryTotal {
  minute: string;
}

/** A stored click's visitor identifiers, for duplicate and already-converted memory. */
export interface VisitorRow {
  offerId: number;
  /** The offer cookie's visitor id (the click's own transaction id for clicks stored before it existed). */
  visitorId: string;
  /** ISO 8601 UTC. */
  time: string;
  ip: string | null;
  userAgent: string | null;
  idfa: string | null;
  gaid: string | null;
}

/**
 * What the live state (caps counters, visitor memory) is rebuilt from at start. Clicks count when
 * they reached an offer (routed, catch_all, fail_traffic); conversions when approved or pending.
 */
export interface LiveHistoryReader {
  /** All-time sums per offer and partner (global caps), computed by the database. */
  totals(): Promise<HistoryTotal[]>;
  /** Per-minute sums with `from` ≤ time < `to` (ISO UTC; `to` null: no upper bound), for the daily, weekly and monthly periods. */
  bucketsBetween(from: string, to: string | null): Promise<HistoryBucket[]>;
  /** Counted clicks on every offer with `from` ≤ time < `to` (ISO UTC; `to` null: no upper bound), oldest first; the first `limit` of them when given. */
  visitorsBetween(from: string, to: string | null, limit?: number): Promise<VisitorRow[]>;
  /** The clicks whose base conversion is approved or pending. */
  convertedVisitors(): Promise<VisitorRow[]>;
}

/** What a reset line of the run record names besides its reason. */
export interface KpiResetLine {
  smartLinkId: number;
  reason: KpiResetReason;
  /** ISO 8601 UTC: the new epoch's start. */
  at: string;
  algorithm: KpiRunRecord['algorithm'];
  metric: KpiRunRecord['metric'];
  goal: number | null;
}

/** A scheduled run about to be stored, and the model routing uses from it on. */
export interface KpiRunWrite {
  run: Omit<KpiRunRecord, 'id'> & { kind: 'run'; slot_at: string };
  /**
   * The run whose model stays in force when this run keeps the previous model (an empty window);
   * null otherwise (this run's own id is stored).
   */
  keptModelRunId: number | null;
}

/** Storage of KPI optimisation (SPEC §5): each link's epoch and model, the run record, and leases. */
export interface KpiRepo {
  getState(smartLinkId: number): Promise<KpiStateRecord | undefined>;
  allStates(): Promise<KpiStateRecord[]>;
  /** Starts the link's next epoch (the first one if it has none) with no model, and appends a reset line. */
  reset(line: KpiResetLine): Promise<KpiStateRecord>;
  getRun(id: number): Promise<KpiRunRecord | undefined>;
  /** Whether a run for this link and slot is already stored. */
  hasRun(smartLinkId: number, slotAt: string): Promise<boolean>;
  /**
   * Stores a scheduled run and puts its model in force, or does nothing and returns null when the
   * slot already has a run (another process ran it), a later slot of the epoch has one, or the
   * link's epoch is no longer the run's.
   */
  appendRun(write: KpiRunWrite): Promise<KpiRunRecord | null>;
  /** The run record, newest first; `from` inclusive and `to` exclusive bound `run_at`. */
  listRuns(query: { smartLinkId: number; from?: string; to?: string; page: number; pageSize: number }): Promise<ListResult<KpiRunRecord>>;
  /**
   * Takes or renews the lease `name` for `holder` until `expiresAtMs`; true when `holder` holds it.
   * A lease is taken over only once it has expired at `nowMs`.
   */
  acquireLease(name: string, holder: string, nowMs: number, expiresAtMs: number): Promise<boolean>;
  /** Gives the lease up if `holder` holds it, so another process need not wait for it to expire. */
  releaseLease(name: string, holder: string): Promise<void>;
}

/** One entry's clicks in a KPI window, per UTC hour of their time. */
export interface KpiClickHour {
  entryId: number;
  /** ISO 8601 UTC of the hour's start. */
  hour: string;
  clicks: number;
}

/** Approved conversions and events of one entry's clicks of one UTC hour. */
export interface KpiConversionHour {
  entryId: number;
  /** ISO 8601 UTC of the start of the clicks' hour. */
  hour: string;
  conversions: number;
  events: number;
  revenueMicros: number;
  payoutMicros: number;
}

/** The raw figures a KPI run reads (SPEC §5: only this smart link's traffic counts). */
export interface KpiStatsReader {
  /** Clicks of the link routed to an entry, with time in [from, to), per entry and UTC hour. */
  clickHours(smartLinkId: number, from: string, to: string): Promise<KpiClickHour[]>;
  /** Approved conversions of those same clicks, per entry and hour of the click (`event_key` '' is the base conversion). */
  conversionHours(smartLinkId: number, from: string, to: string): Promise<KpiConversionHour[]>;
  /** The clicks of the link with time in [from, to), invalid ones (turned away) excepted. */
  countClicks(smartLinkId: number, from: string, to: string): Promise<number>;
  /** Click-to-conversion delays (ms) of the link's latest `limit` approved base conversions. */
  conversionDelaysMs(smartLinkId: number, limit: number): Promise<number[]>;
}

/** Everything one transaction can touch. */
export interface StoreTx {
  advertisers: ResourceRepo<AdvertiserRecord>;
  offers: ResourceRepo<OfferRecord>;
  offerUrls: ResourceRepo<OfferUrlRecord>;
  partners: ResourceRepo<PartnerRecord>;
  trackingDomains: ResourceRepo<TrackingDomainRecord>;
  smartLinks: ResourceRepo<SmartLinkRecord, SmartLinkBody>;
  offerAccess: OfferAccessRepo;
  apiKeys: ApiKeyRepo;
  settings: SettingsRepo;
  trackingLinks: TrackingLinkRepo;
  secrets: SecretRepo;
  references: ReferenceQueries;
  clicks: ClickReader;
  conversions: ConversionReader;
  reports: ReportReader;
  notifications: NotificationRepo;
  partnerPostbacks: PostbackLog;
  liveHistory: LiveHistoryReader;
  kpi: KpiRepo;
  kpiStats: KpiStatsReader;
}

/**
 * The storage port. Callers see only this interface; the adapter behind it (embedded SQLite now,
 * PostgreSQL later) is chosen in main.ts. Everything is async even where the engine underneath is not.
 */
export interface Store extends StoreTx {
  /** Runs `fn` atomically: either every write in it is stored, or none is. */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /** Throws when the database cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
