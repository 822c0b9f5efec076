import type {
  OfferAccessRecord, OfferRecord, OfferUrlRecord, PartnerRecord, SmartLinkRecord,
} from '../../src/domain/records.js';
import type { Entry } from '../../src/domain/schemas/smart-link.js';
import { buildSnapshot, type ClickContext, type SnapshotData, type Snapshot } from '../../src/engine/index.js';

/**
 * Record builders for engine tests. Nested fields are left at their schema-optional shape on
 * purpose, so the snapshot's normalisation of defaults is exercised too.
 */
const meta = (id: number) => ({ id, version: 1, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' });

export function offer(id: number, fields: Partial<OfferRecord> = {}): OfferRecord {
  return {
    ...meta(id),
    advertiser_id: 1,
    name: `offer ${id}`,
    status: 'active',
    destination_url: `https://offer${id}.example/land?tid={transaction_id}`,
    visibility: 'public',
    ruleset: null,
    caps: [],
    caps_timezone: 'UTC',
    duplicate_filter: {},
    block_already_converted: false,
    redirect_mode: 'standard',
    deep_link: {},
    conversion_method: 'server_postback',
    allow_duplicate_conversions: false,
    payout: { type: 'fixed', value: 1 },
    revenue: { type: 'fixed', value: 2 },
    attribution_window_days: 90,
    postback_secret_hash: null,
    fail_traffic: null,
    expires_at: null,
    ...fields,
  };
}

export function offerUrl(id: number, offerId: number, fields: Partial<OfferUrlRecord> = {}): OfferUrlRecord {
  return {
    ...meta(id), offer_id: offerId, name: `url ${id}`, destination_url: `https://offer${offerId}.example/u${id}`,
    status: 'active', partner_ids: null, ...fields,
  };
}

export function entry(id: number, offerId: number, fields: Partial<Entry> = {}): Entry {
  return { id, offer_id: offerId, offer_url_id: null, routing_value: 0, ruleset: null, ...fields };
}

export function smartLink(id: number, entries: Entry[], fields: Partial<SmartLinkRecord> = {}): SmartLinkRecord {
  return {
    ...meta(id), name: `link ${id}`, status: 'active', tracking_domain_id: null, routing: 'priority', entries,
    catch_all_offer_id: null, visible_to_partners: false, kpi: null, ...fields,
  };
}

export function partner(id: number): PartnerRecord {
  return { ...meta(id), name: `partner ${id}`, status: 'active', postback_url: null };
}

export function access(offerId: number, partnerId: number, state: OfferAccessRecord['state'], caps: OfferAccessRecord['caps'] = []): OfferAccessRecord {
  return { offer_id: offerId, partner_id: partnerId, state, caps, version: 1, updated_at: '2026-01-01T00:00:00Z' };
}

export function snapshotOf(data: Partial<SnapshotData>): Snapshot {
  return buildSnapshot({
    offers: [], offerUrls: [], partners: [partner(1)], offerAccess: [], smartLinks: [], trackingDomains: [],
    settings: { global_fail_redirect_url: null, version: 1 }, kpiStates: [], ...data,
  });
}

/** 2026-03-04 (a Wednesday) 12:00 UTC. */
export const NOON_WEDNESDAY_MS = Date.UTC(2026, 2, 4, 12, 0, 0);

export function context(fields: Partial<ClickContext> = {}): ClickContext {
  return {
    transaction_id: '0123456789abcdef0123456789abcdef',
    time_ms: NOON_WEDNESDAY_MS,
    ip: '203.0.113.7',
    user_agent: 'test-agent',
    device: { os: 'iOS', os_version: '17.2', device_type: 'mobile', browser: 'Safari', brand: 'Apple', language: 'en' },
    is_bot: false,
    geo: { country: 'US', region: 'New York', city: 'New York', time_zone: 'America/New_York' },
    sub1: null, sub2: null, sub3: null, sub4: null, sub5: null, source_id: null,
    deep_link: null, idfa: null, gaid: null,
    offer_cookies: new Map(),
    ...fields,
  };
}
