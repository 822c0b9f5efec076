import { sql } from 'kysely';
import type { ApiKeyRecord, OfferAccessRecord, SettingsRecord } from '../../domain/records.js';
import type { ApiKeyRepo, OfferAccessRepo, ReferenceQueries, SecretRepo, SettingsRepo, UpdateResult } from '../../ports/store.js';
import type { Clock, Executor } from './dialect.js';

interface AccessRow extends Omit<OfferAccessRecord, 'caps'> {
  caps: string;
}

const accessFromRow = (row: AccessRow): OfferAccessRecord => ({
  ...row,
  offer_id: Number(row.offer_id),
  partner_id: Number(row.partner_id),
  caps: JSON.parse(row.caps) as OfferAccessRecord['caps'],
});

export function offerAccessRepo(db: Executor, clock: Clock): OfferAccessRepo {
  return {
    async get(offerId, partnerId) {
      const { rows } = await sql<AccessRow>`select * from offer_access
        where offer_id = ${offerId} and partner_id = ${partnerId}`.execute(db);
      return rows[0] ? accessFromRow(rows[0]) : undefined;
    },
    async put(record) {
      const caps = JSON.stringify(record.caps);
      const now = clock().toISOString();
      const { rows } = await sql<AccessRow>`insert into offer_access (offer_id, partner_id, state, caps, version, updated_at)
        values (${record.offer_id}, ${record.partner_id}, ${record.state}, ${caps}, 1, ${now})
        on conflict (offer_id, partner_id) do update set state = excluded.state, caps = excluded.caps,
          version = offer_access.version + 1, updated_at = excluded.updated_at
        returning *`.execute(db);
      return accessFromRow(rows[0] as AccessRow);
    },
    async all() {
      const { rows } = await sql<AccessRow>`select * from offer_access order by offer_id, partner_id`.execute(db);
      return rows.map(accessFromRow);
    },
    async stamps() {
      const { rows } = await sql<Pick<AccessRow, 'offer_id' | 'partner_id' | 'version' | 'updated_at'>>`select offer_id, partner_id,
        version, updated_at from offer_access order by offer_id, partner_id`.execute(db);
      return rows.map((row) => ({ ...row, offer_id: Number(row.offer_id), partner_id: Number(row.partner_id) }));
    },
    async removeForPartner(partnerId) {
      await sql`delete from offer_access where partner_id = ${partnerId}`.execute(db);
    },
  };
}

const apiKeyFromRow = (row: ApiKeyRecord): ApiKeyRecord => ({
  ...row,
  id: Number(row.id),
  partner_id: row.partner_id === null ? null : Number(row.partner_id),
});

export function apiKeyRepo(db: Executor, clock: Clock): ApiKeyRepo {
  return {
    async insert(key) {
      const { rows } = await sql<ApiKeyRecord>`insert into api_keys (role, partner_id, secret_hash, created_at)
        values (${key.role}, ${key.partner_id}, ${key.secret_hash}, ${clock().toISOString()}) returning *`.execute(db);
      return apiKeyFromRow(rows[0] as ApiKeyRecord);
    },
    async get(id) {
      const { rows } = await sql<ApiKeyRecord>`select * from api_keys where id = ${id}`.execute(db);
      return rows[0] ? apiKeyFromRow(rows[0]) : undefined;
    },
    async list({ partnerId, page, pageSize }) {
      const where = partnerId === undefined ? sql`` : sql`where partner_id = ${partnerId}`;
      const { rows } = await sql<ApiKeyRecord>`select * from api_keys ${where} order by id
        limit ${pageSize} offset ${(page - 1) * pageSize}`.execute(db);
      const { rows: counted } = await sql<{ n: number | string }>`select count(*) as n from api_keys ${where}`.execute(db);
      return { rows: rows.map(apiKeyFromRow), total: Number(counted[0]?.n ?? 0) };
    },
    async countAdmins() {
      const { rows } = await sql<{ n: number | string }>`select count(*) as n from api_keys where role = 'admin'`.execute(db);
      return Number(rows[0]?.n ?? 0);
    },
    async removeForPartner(partnerId) {
      await sql`delete from api_keys where partner_id = ${partnerId}`.execute(db);
    },
    async remove(id) {
      const result = await sql`delete from api_keys where id = ${id}`.execute(db);
      return Number(result.numAffectedRows ?? 0) > 0;
    },
  };
}

const SETTINGS_KEY = 'network';

export function settingsRepo(db: Executor): SettingsRepo {
  const read = async (): Promise<SettingsRecord> => {
    const { rows } = await sql<{ value: string; version: number }>`select value, version from settings
      where key = ${SETTINGS_KEY}`.execute(db);
    const row = rows[0];
    if (!row) return { global_fail_redirect_url: null, version: 0 };
    return { ...(JSON.parse(row.value) as Omit<SettingsRecord, 'version'>), version: row.version };
  };
  return {
    get: read,
    async put(settings, expectedVersion): Promise<UpdateResult<SettingsRecord>> {
      const current = await read();
      if (expectedVersion !== undefined && expectedVersion !== current.version) return { ok: false, reason: 'conflict' };
      const value = JSON.stringify(settings);
      await sql`insert into settings (key, value, version) values (${SETTINGS_KEY}, ${value}, 1)
        on conflict (key) do update set value = excluded.value, version = settings.version + 1`.execute(db);
      return { ok: true, record: await read() };
    },
  };
}

export function secretRepo(db: Executor): SecretRepo {
  return {
    async getOrCreate(name, generate) {
      const key = `secret:${name}`;
      await sql`insert into settings (key, value, version) values (${key}, ${JSON.stringify(generate())}, 1)
        on conflict (key) do nothing`.execute(db);
      const { rows } = await sql<{ value: string }>`select value from settings where key = ${key}`.execute(db);
      return JSON.parse((rows[0] as { value: string }).value) as string;
    },
  };
}

const ids = (rows: { id: number | string }[]) => rows.map((row) => Number(row.id));
const count = (rows: { n: number | string }[]) => Number(rows[0]?.n ?? 0);

export function referenceQueries(db: Executor): ReferenceQueries {
  return {
    async smartLinksUsingOffer(offerId) {
      const { rows } = await sql<{ id: number }>`select id from smart_links where status <> 'deleted' and (
          catch_all_offer_id = ${offerId}
          or id in (select smart_link_id from smart_link_entries where offer_id = ${offerId})
        ) order by id`.execute(db);
      return ids(rows);
    },
    async smartLinksUsingOfferUrl(offerUrlId) {
      const { rows } = await sql<{ id: number }>`select id from smart_links where status <> 'deleted'
        and id in (select smart_link_id from smart_link_entries where offer_url_id = ${offerUrlId}) order by id`.execute(db);
      return ids(rows);
    },
    async smartLinksOnTrackingDomain(trackingDomainId) {
      const { rows } = await sql<{ id: number }>`select id from smart_links where status <> 'deleted'
        and tracking_domain_id = ${trackingDomainId} order by id`.execute(db);
      return ids(rows);
    },
    async countOffersOfAdvertiser(advertiserId) {
      const { rows } = await sql<{ offers: number | string; live: number | string | null }>`select count(*) as offers,
        sum(case when status <> 'deleted' then 1 else 0 end) as live from offers where advertiser_id = ${advertiserId}`.execute(db);
      return { offers: Number(rows[0]?.offers ?? 0), live: Number(rows[0]?.live ?? 0) };
    },
    async advertiserHasTraffic(advertiserId) {
      // Every click is counted in the day cube, under the advertiser its offer had then; far fewer rows than clicks.
      const { rows } = await sql<{ n: number }>`select 1 as n from report_links_day where advertiser_id = ${advertiserId} limit 1`.execute(db);
      return rows.length > 0;
    },
    async countTrackingLinksOfPartner(partnerId) {
      const { rows } = await sql<{ n: number }>`select count(*) as n from tracking_links where partner_id = ${partnerId}`.execute(db);
      return count(rows);
    },
  };
}
