import { sql, type Migration, type MigrationProvider } from 'kysely';
import type { SqlDialectTraits } from './dialect.js';
import type { RollupCube } from '../../domain/report.js';
import { cubeCreateSql, cubeRebuildSql, FINE_CUBE, ROLLUP_INT_KEYS as INT_KEYS, ROLLUP_KEY_COLUMNS } from './rollup-row.js';

const LINK = ['smart_link_id', 'entry_id', 'offer_id', 'offer_url_id', 'advertiser_id', 'outcome', 'reason'] as const;

/**
 * The cubes migration 0006 creates, spelled out rather than read from the live catalogue
 * (domain/report.ts) so that this migration keeps creating the same tables whatever the catalogue
 * becomes: a later cube gets a migration of its own.
 */
const CUBES_0006: readonly RollupCube[] = [
  { table: 'report_links_day', grain: 'day', dimensions: LINK },
  { table: 'report_partner_links_day', grain: 'day', dimensions: ['partner_id', ...LINK], leading: 'partner_id' },
  { table: 'report_countries_day', grain: 'day', dimensions: [...LINK, 'country'] },
  { table: 'report_links_hour', grain: 'hour', dimensions: LINK },
  { table: 'report_partner_links_hour', grain: 'hour', dimensions: ['partner_id', ...LINK], leading: 'partner_id' },
  { table: 'report_countries_hour', grain: 'hour', dimensions: [...LINK, 'country'] },
  { table: 'report_links_quarter', grain: 'quarter', dimensions: LINK },
];

/**
 * Versioned schema changes, applied in name order at start. Never edit one that has shipped:
 * add the next number instead.
 */
function migrations(traits: SqlDialectTraits): Record<string, Migration> {
  const pk = sql.raw(traits.autoIncrementPrimaryKey);
  const document = (table: string, columns: string) =>
    sql.raw(`create table ${table} (
      id ${traits.autoIncrementPrimaryKey},
      version integer not null,
      created_at text not null,
      updated_at text not null,
      data text not null${columns ? `,\n${columns}` : ''}
    )`);
  return {
    '0001_configuration': {
      async up(db) {
        await document('advertisers', 'status text not null').execute(db);
        await document('offers', 'advertiser_id integer not null, status text not null').execute(db);
        await sql`create index offers_advertiser on offers (advertiser_id)`.execute(db);
        await document('offer_urls', 'offer_id integer not null, status text not null').execute(db);
        await sql`create index offer_urls_offer on offer_urls (offer_id)`.execute(db);
        await document('partners', 'status text not null').execute(db);
        await document('tracking_domains', 'host text not null unique, is_default integer not null').execute(db);
        await document(
          'smart_links',
          'status text not null, tracking_domain_id integer, catch_all_offer_id integer, visible_to_partners integer not null',
        ).execute(db);
        await sql`create table smart_link_entries (
          id ${pk},
          smart_link_id integer not null,
          offer_id integer not null,
          offer_url_id integer
        )`.execute(db);
        await sql`create index smart_link_entries_link on smart_link_entries (smart_link_id)`.execute(db);
        await sql`create index smart_link_entries_offer on smart_link_entries (offer_id)`.execute(db);
        await sql`create table offer_access (
          offer_id integer not null,
          partner_id integer not null,
          state text not null,
          caps text not null,
          version integer not null,
          updated_at text not null,
          primary key (offer_id, partner_id)
        )`.execute(db);
        await sql`create table api_keys (
          id ${pk},
          role text not null,
          partner_id integer,
          secret_hash text not null,
          created_at text not null
        )`.execute(db);
        await sql`create table settings (
          key text primary key,
          value text not null,
          version integer not null
        )`.execute(db);
        await sql`create table tracking_links (
          token text primary key,
          smart_link_id integer not null,
          partner_id integer not null,
          data text not null,
          created_at text not null
        )`.execute(db);
        await sql`create index tracking_links_partner on tracking_links (partner_id)`.execute(db);
      },
    },
    '0002_clicks': {
      // One flat row per click (no JSON document) so reports can filter and group on any field.
      // `time` is ISO 8601 UTC text: it sorts chronologically in both SQLite and PostgreSQL.
      async up(db) {
        await sql`create table clicks (
          transaction_id text primary key,
          time text not null,
          smart_link_id integer not null,
          partner_id integer not null,
          tracking_token text not null,
          entry_id integer,
          offer_id integer,
          offer_url_id integer,
          advertiser_id integer,
          outcome text not null,
          reason integer,
          skipped text not null,
          is_unique integer not null,
          ip text,
          user_agent text,
          os text,
          os_version text,
          device_type text,
          browser text,
          brand text,
          language text,
          country text,
          region text,
          city text,
          sub1 text,
          sub2 text,
          sub3 text,
          sub4 text,
          sub5 text,
          source_id text,
          destination text,
          kpi_run_id ${sql.raw(traits.bigint)}
        )`.execute(db);
        await sql`create index clicks_time on clicks (time)`.execute(db);
        await sql`create index clicks_smart_link_time on clicks (smart_link_id, time)`.execute(db);
      },
    },
    '0003_conversions': {
      // Money columns hold integer micros (millionths of the currency unit): exact, never floats.
      // `event_key`/`order_key` are the event and order ids with absence stored as '' so that the
      // unique index treats two absent values as equal (SQL NULLs never collide). `order_key` is not
      // always the order id (base conversions of offers without duplicates key on '' whatever the
      // order id; see src/domain/conversion.ts), so the order id itself is kept in `order_id`.
      async up(db) {
        await sql`create table conversions (
          id ${pk},
          transaction_id text not null,
          event_key text not null,
          order_key text not null,
          order_id text,
          time text not null,
          click_time text not null,
          offer_id integer not null,
          partner_id integer not null,
          advertiser_id integer not null,
          smart_link_id integer not null,
          entry_id integer,
          offer_url_id integer,
          method text not null,
          status text not null,
          status_reason text,
          amount_micros ${sql.raw(traits.bigint)},
          payout_micros ${sql.raw(traits.bigint)} not null,
          revenue_micros ${sql.raw(traits.bigint)} not null,
          adv1 text,
          adv2 text,
          adv3 text,
          adv4 text,
          adv5 text
        )`.execute(db);
        await sql`create unique index conversions_identity on conversions (transaction_id, event_key, order_key)`.execute(db);
        await sql`create index conversions_time on conversions (time)`.execute(db);
        await sql`create index conversions_offer_time on conversions (offer_id, time)`.execute(db);
        await sql`create index conversions_partner_time on conversions (partner_id, time)`.execute(db);
        await sql`create index conversions_smart_link_time on conversions (smart_link_id, time)`.execute(db);
        // The durable outbox of partner postbacks: a row is written in the same transaction as its
        // approved conversion, and deleted or marked once delivered or given up.
        await sql`create table partner_postbacks (
          id ${pk},
          conversion_id ${sql.raw(traits.bigint)} not null,
          partner_id integer not null,
          url text not null,
          state text not null,
          attempts integer not null,
          next_attempt_at text not null,
          last_error text,
          created_at text not null,
          delivered_at text
        )`.execute(db);
        await sql`create index partner_postbacks_due on partner_postbacks (state, next_attempt_at)`.execute(db);
      },
    },
    '0004_live_state': {
      // Live state (caps, duplicate memory) is rebuilt from clicks and conversions at start:
      // clicks keep the device ids a duplicate filter may use, and the per-offer time index lets
      // the rebuild read only the clicks inside each offer's duplicate window.
      // Soft-cap notifications are stored once per cap and period: `dedupe_key` names both.
      async up(db) {
        await sql`alter table clicks add column idfa text`.execute(db);
        await sql`alter table clicks add column gaid text`.execute(db);
        await sql`create index clicks_offer_time on clicks (offer_id, time)`.execute(db);
        await sql`create table notifications (
          id ${pk},
          dedupe_key text not null unique,
          time text not null,
          kind text not null,
          scope text not null,
          offer_id integer not null,
          partner_id integer,
          metric text not null,
          period text not null,
          period_key text not null,
          limit_value ${sql.raw(traits.bigint)} not null,
          used_value ${sql.raw(traits.bigint)} not null
        )`.execute(db);
        await sql`create index notifications_time on notifications (time)`.execute(db);
      },
    },
    '0005_report_rollups': {
      // Report sums per 15-minute UTC bucket × every reportable dimension (see rollup-row.ts), kept
      // by the writer in the transaction of the clicks and conversions they count. The primary key over
      // every key column is what the writer's upsert conflicts on; bucket first, and rows clustered in
      // key order where the database can, so a date range is one sequential scan.
      // Existing clicks and conversions are summed once here, so an upgraded database reports them.
      async up(db) {
        const keys = ROLLUP_KEY_COLUMNS.map((c) => `${c} ${c === 'bucket' || !INT_KEYS.has(c) ? 'text' : 'integer'} not null`);
        await sql.raw(`create table report_rollups (
          ${keys.join(',\n          ')},
          clicks integer not null,
          unique_clicks integer not null,
          duplicate_clicks integer not null,
          invalid_clicks integer not null,
          conversions integer not null,
          events integer not null,
          revenue_micros ${traits.bigint} not null,
          payout_micros ${traits.bigint} not null,
          primary key (${ROLLUP_KEY_COLUMNS.join(', ')})
        )${traits.clusteredTableSuffix}`).execute(db);
        await sql`create index report_rollups_link on report_rollups (smart_link_id, bucket)`.execute(db);
        await sql`create index report_rollups_partner on report_rollups (partner_id, bucket)`.execute(db);
        for (const statement of cubeRebuildSql(FINE_CUBE)) await sql.raw(statement).execute(db);
      },
    },
    '0006_report_cubes': {
      // Smaller rollups beside report_rollups (see domain/report.ts): hour and day buckets over the
      // link dimensions, alone, with partner (partner first in the key: a partner's report reads only
      // its rows), and with country; quarter-hour buckets over the link dimensions. Kept by the writer
      // like report_rollups; existing clicks and conversions are summed into them here, from raw rows.
      async up(db) {
        for (const cube of CUBES_0006) {
          await sql.raw(cubeCreateSql(cube, traits.bigint, traits.clusteredTableSuffix)).execute(db);
          for (const statement of cubeRebuildSql(cube)) await sql.raw(statement).execute(db);
        }
      },
    },
    '0007_kpi': {
      // KPI optimisation (SPEC §5). `kpi_state` holds each link's epoch and the model in force (JSON);
      // `kpi_runs` is the run record: runs and resets, the variable part as one JSON document. The
      // unique index on (smart_link_id, slot_at) is the fence that makes a scheduled run exactly-once
      // even if two processes both believe they lead; resets have no slot, and NULLs never collide.
      // `leases` names who runs a periodic job; a holder renews its row before it expires.
      // The window reads use clicks_smart_link_time (0002) and conversions_identity (0003).
      async up(db) {
        await sql`create table kpi_state (
          smart_link_id integer primary key,
          epoch integer not null,
          epoch_started_at text not null,
          model text,
          model_run_id ${sql.raw(traits.bigint)},
          last_run_at text
        )`.execute(db);
        await sql`create table kpi_runs (
          id ${pk},
          smart_link_id integer not null,
          epoch integer not null,
          kind text not null,
          run_at text not null,
          slot_at text,
          data text not null
        )`.execute(db);
        await sql`create unique index kpi_runs_slot on kpi_runs (smart_link_id, slot_at)`.execute(db);
        await sql`create index kpi_runs_link_time on kpi_runs (smart_link_id, run_at)`.execute(db);
        await sql`create table leases (
          name text primary key,
          holder text not null,
          expires_at_ms ${sql.raw(traits.bigint)} not null
        )`.execute(db);
      },
    },
    '0008_clicks_without_offer_index': {
      // clicks (offer_id, time) served only the duplicate-memory rebuild at start, and cost every
      // group commit one more page written per distinct offer among its clicks: a 32-click batch on
      // a 20-offer link wrote 49 WAL pages with it and 24 without, and committed ~17 % faster. The
      // rebuild now reads the clicks of all offers by time (clicks_time) in one pass.
      async up(db) {
        await sql`drop index clicks_offer_time`.execute(db);
      },
    },
    '0009_click_deep_link': {
      // SPEC §4.9: a click notes whether the deep link it asked for was used or rejected.
      async up(db) {
        await sql`alter table clicks add column deep_link text`.execute(db);
      },
    },
    '0010_click_visitor_id': {
      // The offer cookie's visitor id (SPEC §9 `cookie` identifier): the transaction id of the
      // browser's first click on the offer. Older clicks read as their own visitors.
      async up(db) {
        await sql`alter table clicks add column visitor_id text`.execute(db);
      },
    },
    '0011_repair_edited_migrations': {
      // 0003 and 0006 were edited after databases had run them (the order_id column and two
      // conversion indexes, the report_links_quarter cube), and such a database could not be
      // opened any more. Whatever of those is missing is added here; a database that has it all
      // is left as it is.
      async up(db) {
        const tables = new Map((await db.introspection.getTables()).map((t) => [t.name, new Set(t.columns.map((c) => c.name))]));
        if (!tables.get('conversions')?.has('order_id')) await sql`alter table conversions add column order_id text`.execute(db);
        await sql`create index if not exists conversions_partner_time on conversions (partner_id, time)`.execute(db);
        await sql`create index if not exists conversions_smart_link_time on conversions (smart_link_id, time)`.execute(db);
        for (const cube of CUBES_0006) {
          if (tables.has(cube.table)) continue;
          await sql.raw(cubeCreateSql(cube, traits.bigint, traits.clusteredTableSuffix)).execute(db);
          for (const statement of cubeRebuildSql(cube)) await sql.raw(statement).execute(db);
        }
      },
    },
    '0012_partner_postbacks_by_partner': {
      // Partners take turns at the outbox (outbox-repo.ts claimDue). Partial indexes over the rows
      // still to settle, and over those being sent, keep a claim's cost to the partners with work
      // and the rows it takes, however long one partner's backlog or the delivered history grows.
      // The due index becomes partial too: beside a full (state, …) index the planner, without
      // statistics, walked a partner's whole backlog through it instead.
      async up(db) {
        await sql`drop index partner_postbacks_due`.execute(db);
        await sql`create index partner_postbacks_due on partner_postbacks (next_attempt_at, id) where state in ('pending', 'sending')`.execute(db);
        await sql`create index partner_postbacks_unsettled on partner_postbacks (partner_id, next_attempt_at, id) where state in ('pending', 'sending')`.execute(db);
        await sql`create index partner_postbacks_sending on partner_postbacks (partner_id, next_attempt_at) where state = 'sending'`.execute(db);
      },
    },
    '0013_partner_postback_log': {
      // Operators list and resend postbacks (GET/POST /partner-postbacks). A resend gives a fresh
      // set of attempts without lowering `attempts`, the fencing token of claims; and the lookups by
      // conversion, state and partner read indexes, not the whole delivered history.
      async up(db) {
        await sql`alter table partner_postbacks add column attempt_base integer not null default 0`.execute(db);
        await sql`create index partner_postbacks_conversion on partner_postbacks (conversion_id)`.execute(db);
        await sql`create index partner_postbacks_state on partner_postbacks (state, id)`.execute(db);
        await sql`create index partner_postbacks_partner on partner_postbacks (partner_id, id)`.execute(db);
      },
    },
    '0014_tracking_links_by_smart_link': {
      // GET /smart-links/:id/tracking-links lists a link's tracking links in minting order. Without an
      // index on the link, every page scanned and sorted the whole table on the main thread (0.14 s
      // per page at a million links, holding every click; found by review).
      async up(db) {
        await sql`create index tracking_links_smart_link on tracking_links (smart_link_id, created_at, token)`.execute(db);
      },
    },
  };
}

export function migrationProvider(traits: SqlDialectTraits): MigrationProvider {
  return { getMigrations: async () => migrations(traits) };
}
