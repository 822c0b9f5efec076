import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { DATABASE_FILE, openSqliteStore } from '../../src/store/sqlite/index.js';
import { openSqliteOutbox } from '../../src/store/sqlite/outbox.js';
import { startServer, tempDir } from '../support/api-server.js';
import { clickOn } from '../support/clicks.js';
import { basicNetwork } from '../support/fixtures.js';
import { storeConformance } from './conformance.js';
import { kpiStoreConformance } from './kpi-conformance.js';

storeConformance('SQLite', () => openSqliteStore({ dataDir: tempDir(), synchronous: 'full' }));
kpiStoreConformance('SQLite', () => openSqliteStore({ dataDir: tempDir(), synchronous: 'normal' }));

describe('SQLite store transactions', () => {
  it('hold the write lock from their start, so another process\'s commit cannot invalidate what they read', async () => {
    const dataDir = tempDir();
    const store = await openSqliteStore({ dataDir, synchronous: 'normal' });
    // Another process's connection, which will not wait for a lock.
    const other = new Database(path.join(dataDir, DATABASE_FILE), { timeout: 0 });
    try {
      await store.transaction(async (tx) => {
        await tx.settings.get();
        // A DEFERRED transaction would hold only a read lock here: the other writer would get in,
        // and this transaction's first write would then fail with SQLITE_BUSY_SNAPSHOT.
        expect(() => other.exec('begin immediate')).toThrow(/database is locked/);
      });
      other.exec('begin immediate');
      other.exec('rollback');
    } finally {
      other.close();
      await store.close();
    }
  });
});

describe('checkpoints stay off the thread that answers clicks', () => {
  it('a configuration or outbox write does not copy a long write-ahead log into the database file (the checkpointer thread does that)', async () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, DATABASE_FILE);
    const store = await openSqliteStore({ dataDir, synchronous: 'normal' });
    const outbox = await openSqliteOutbox({ dataDir, synchronous: 'normal' });
    // The click writer's commits, as under load: thousands of pages in the log, none checkpointed yet.
    const writer = new Database(file);
    writer.pragma('wal_autocheckpoint = 0');
    try {
      writer.exec('create table filler (data blob)');
      const insert = writer.prepare('insert into filler values (randomblob(4000))');
      writer.transaction(() => { for (let i = 0; i < 3000; i++) insert.run(); })();
      const before = fs.statSync(file).size;
      await store.advertisers.insert({ name: 'A', status: 'active', default_currency: 'USD' });
      expect(fs.statSync(file).size, 'database file after a configuration write').toBe(before);
      await outbox.enqueue({ conversion_id: 1, partner_id: 1, url: 'https://partner.example/pb' }, new Date());
      expect(await outbox.claimDue(new Date(), new Date(Date.now() + 60_000), 10)).toHaveLength(1);
      expect(fs.statSync(file).size, 'database file after an outbox write').toBe(before);
    } finally {
      writer.close();
      await outbox.close();
      await store.close();
    }
  });
});

describe('SQLite store upgrades', () => {
  it('a migration that stops partway leaves nothing behind, so the next start runs it again whole', async () => {
    const dataDir = tempDir();
    await (await openSqliteStore({ dataDir, synchronous: 'normal' })).close();
    // Back to before 0006, with one of the tables it makes already there: it creates the first
    // cube, then fails on this one, as a start killed in the middle of it would stop.
    const db = new Database(path.join(dataDir, DATABASE_FILE));
    const cubes = (db.prepare("select name from sqlite_master where type = 'table' and name like 'report\\_%' escape '\\' and name <> 'report_rollups'").all() as { name: string }[]).map((r) => r.name);
    expect(cubes.length).toBeGreaterThan(1);
    for (const cube of cubes) db.exec(`drop table ${cube}`);
    db.exec("delete from kysely_migration where name = '0006_report_cubes'");
    db.exec(`create table ${cubes.at(-1)} (blocker integer)`);
    db.close();
    await expect(openSqliteStore({ dataDir, synchronous: 'normal' })).rejects.toThrow(/0006_report_cubes/);

    const after = new Database(path.join(dataDir, DATABASE_FILE));
    const left = (after.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[]).map((r) => r.name);
    expect(cubes.filter((cube) => left.includes(cube))).toEqual([cubes.at(-1)]);
    after.exec(`drop table ${cubes.at(-1)}`);
    after.close();
    await (await openSqliteStore({ dataDir, synchronous: 'normal' })).close();
  });


  it('opens a database made while migrations 0003 and 0006 were still being edited, and fills what they lacked', async () => {
    const server = await startServer();
    const { dataDir } = server;
    const { smartLink, partner } = await basicNetwork(server);
    const token = (await server.call('POST', `/api/v1/smart-links/${smartLink.id}/tracking-links`, { partner_id: partner.id })).body.token;
    expect((await clickOn(server.url, token)).status).toBe(302);
    await server.close();

    // What those commits left behind: no quarter-hour cube, no order_id column, two indexes fewer.
    const old = new Database(path.join(dataDir, DATABASE_FILE));
    old.exec(`drop table report_links_quarter; drop index conversions_partner_time; drop index conversions_smart_link_time;
      alter table conversions drop column order_id; delete from kysely_migration where name = '0011_repair_edited_migrations'`);
    old.close();

    const store = await openSqliteStore({ dataDir, synchronous: 'normal' });
    await store.close();
    const db = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true });
    try {
      expect((db.prepare('select sum(clicks) as n from report_links_quarter').get() as { n: number }).n).toBe(1);
      expect((db.prepare('select count(*) as n from pragma_table_info(?) where name = ?').get('conversions', 'order_id') as { n: number }).n).toBe(1);
      const indexes = db.prepare("select name from sqlite_master where type = 'index' and tbl_name = 'conversions'").all().map((r) => (r as { name: string }).name);
      expect(indexes).toEqual(expect.arrayContaining(['conversions_partner_time', 'conversions_smart_link_time']));
    } finally {
      db.close();
    }
  });
});
