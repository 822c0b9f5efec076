import type { ClickRecord } from '../domain/click.js';
import type { ConversionRecord, ConversionStatus } from '../domain/conversion.js';
import type { CapNotification, NotificationRecord } from '../domain/notification.js';
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

/** Storage of one kind of versioned resource. */
export interface ResourceRepo<R extends { id: number; version: number }, B = Body<R>> {
  insert(body: B): Promise<R>;
  get(id: number): Promise<R | undefined>;
  list(query: ListQuery): Promise<ListResult<R>>;
  /** Replaces the body, bumping `version`; with `expectedVersion` a stale write is refused. */
  update(id: number, body: B, expectedVersion?: number): Promise<UpdateResult<R>>;
  remove(id: number): Promise<boolean>;
  all(): Promise<R[]>;
}

export interface OfferAccessRepo {
  get(offerId: number, partnerId: number): Promise<OfferAccessRecord | undefined>;
  put(record: Omit<OfferAccessRecord, 'version' | 'updated_at'>): Promise<OfferAccessRecord>;
  all(): Promise<OfferAccessRecord[]>;
  removeForPartner(partnerId: number): Promise<void>;
}

export interface ApiKeyRepo {
  insert(key: Omit<ApiKeyRecord, 'id' | 'created_at'>): Promise<ApiKeyRecord>;
  get(id: number): Promise<ApiKeyRecord | undefined>;
  countAdmins(): Promise<number>;
  removeForPartner(partnerId: number): Promise<void>;
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
  countOffersOfAdvertiser(advertiserId: number): Promise<number>;
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
  transactionId: string;
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
  /** Per-minute sums since `since` (ISO UTC), for the daily, weekly and monthly periods. */
  bucketsSince(since: string): Promise<HistoryBucket[]>;
  /** Counted clicks on the offer since `since`, oldest first. */
  visitorsSince(offerId: number, since: string): Promise<VisitorRow[]>;
  /** The clicks whose base conversion is approved or pending. */
  convertedVisitors(): Promise<VisitorRow[]>;
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
  liveHistory: LiveHistoryReader;
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
