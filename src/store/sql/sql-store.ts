import { DEFAULT_MIGRATION_TABLE as MIGRATION_TABLE, Migrator, sql } from 'kysely';
import type {
  AdvertiserRecord, Body, OfferRecord, OfferUrlRecord, PartnerRecord, TrackingDomainRecord,
} from '../../domain/records.js';
import type { Store, StoreTx } from '../../ports/store.js';
import { clickReader } from './click-reader.js';
import { conversionReader } from './conversion-reader.js';
import type { Clock, Db, Executor, SqlDialectTraits } from './dialect.js';
import { DocumentRepo } from './document-repo.js';
import { kpiRepo } from './kpi-repo.js';
import { kpiStatsReader } from './kpi-stats-reader.js';
import { liveHistoryReader } from './live-history-reader.js';
import { migrationProvider } from './migrations.js';
import { notificationRepo } from './notification-repo.js';
import { sqlPostbackLog } from './outbox-repo.js';
import { reportReader } from './report-reader.js';
import { SmartLinkRepo } from './smart-link-repo.js';
import { trackingLinkRepo } from './tracking-link-repo.js';
import { apiKeyRepo, offerAccessRepo, referenceQueries, secretRepo, settingsRepo } from './small-repos.js';

function repositories(db: Executor, clock: Clock): StoreTx {
  return {
    advertisers: new DocumentRepo<AdvertiserRecord>(db, { table: 'advertisers', columns: { status: (b) => b.status } }, clock),
    offers: new DocumentRepo<OfferRecord>(
      db,
      { table: 'offers', columns: { advertiser_id: (b) => b.advertiser_id, status: (b) => b.status } },
      clock,
    ),
    offerUrls: new DocumentRepo<OfferUrlRecord>(
      db,
      { table: 'offer_urls', columns: { offer_id: (b) => b.offer_id, status: (b) => b.status } },
      clock,
    ),
    partners: new DocumentRepo<PartnerRecord>(db, { table: 'partners', columns: { status: (b) => b.status } }, clock),
    trackingDomains: new DocumentRepo<TrackingDomainRecord, Body<TrackingDomainRecord>>(
      db,
      { table: 'tracking_domains', columns: { host: (b) => b.host, is_default: (b) => Number(b.is_default) } },
      clock,
    ),
    smartLinks: new SmartLinkRepo(db, clock),
    offerAccess: offerAccessRepo(db, clock),
    apiKeys: apiKeyRepo(db, clock),
    settings: settingsRepo(db),
    trackingLinks: trackingLinkRepo(db, clock),
    secrets: secretRepo(db),
    references: referenceQueries(db),
    clicks: clickReader(db),
    conversions: conversionReader(db),
    reports: reportReader(db),
    notifications: notificationRepo(db),
    partnerPostbacks: sqlPostbackLog(db),
    liveHistory: liveHistoryReader(db),
    kpi: kpiRepo(db),
    kpiStats: kpiStatsReader(db),
  };
}

/** Migrations this database ran that this version does not know: it was written by a newer one. */
async function unknownMigrations(db: Db, known: ReadonlySet<string>): Promise<string[]> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  if (!tables.some((table) => table.name === MIGRATION_TABLE)) return [];
  const { rows } = await sql<{ name: string }>`select name from ${sql.table(MIGRATION_TABLE)}`.execute(db);
  return rows.map((row) => row.name).filter((name) => !known.has(name));
}

/** Brings the schema up to date and names the migrations it ran; throws with the failing migration's name. */
export async function migrate(db: Db, traits: SqlDialectTraits): Promise<string[]> {
  const provider = migrationProvider(traits);
  const newer = await unknownMigrations(db, new Set(Object.keys(await provider.getMigrations())));
  if (newer.length > 0) {
    // Refused, not migrated around: this version does not know what those migrations changed.
    throw new Error(`the database was written by a newer Switchyard (it ran migration ${newer.join(', ')}); run that version or restore a backup`);
  }
  // Unordered: migrations are numbered on parallel branches (0007 may ship before 0006), and a
  // database that already ran a later one must still run an earlier one it has not seen.
  const migrator = new Migrator({ db, provider, allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** A Store over any SQL database Kysely can drive; the dialect's quirks come in as traits. */
export function createSqlStore(db: Db, clock: Clock): Store {
  return {
    ...repositories(db, clock),
    transaction: (fn) => db.transaction().execute((trx) => fn(repositories(trx, clock))),
    async ping() {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}
