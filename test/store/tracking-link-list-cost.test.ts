import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, type CompiledQuery } from 'kysely';
import { describe, expect, it } from 'vitest';
import { trackingLinkRepo } from '../../src/store/sql/tracking-link-repo.js';
import { ImmediateSqliteDialect } from '../../src/store/sqlite/immediate-dialect.js';
import { DATABASE_FILE, openSqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir } from '../support/api-server.js';

/**
 * Listing a smart link's tracking links runs on the server's main thread: its plan must read that
 * link's rows through an index, in order, not scan and sort every partner's links of every smart link
 * (a large network mints millions). Checked by the query plan, which does not depend on the machine.
 */
describe('listing a smart link’s tracking links', () => {
  it('reads the link’s rows through an index, already in order', async () => {
    const dir = tempDir();
    await (await openSqliteStore({ dataDir: dir, synchronous: 'normal' })).close();
    const raw = new Database(path.join(dir, DATABASE_FILE));
    const queries: CompiledQuery[] = [];
    const db = new Kysely<any>({ dialect: new ImmediateSqliteDialect({ database: raw }), log: (event) => void queries.push(event.query) });
    const repo = trackingLinkRepo(db as never, () => new Date('2026-01-01T00:00:00.000Z'));
    for (let i = 0; i < 30; i++) await repo.insert({ token: `t${i}`, smart_link_id: 1 + (i % 3), partner_id: 1 + (i % 5), sub1: null, sub2: null, sub3: null, sub4: null, sub5: null });
    queries.length = 0;

    const page = await repo.list({ smartLinkId: 2, page: 1, pageSize: 4 });
    expect(page.total).toBe(10);
    expect(page.rows.map((row) => row.smart_link_id)).toEqual([2, 2, 2, 2]);
    const listed = queries.filter((query) => /from "?tracking_links"?/i.test(query.sql));
    expect(listed.length).toBeGreaterThan(0);
    for (const query of listed) {
      const plan = raw.prepare(`explain query plan ${query.sql}`).all(...(query.parameters as unknown[])) as { detail: string }[];
      const steps = plan.map((step) => step.detail).join(' | ');
      expect(steps, `${query.sql}: ${steps}`).not.toMatch(/SCAN tracking_links|TEMP B-TREE/);
    }
    await db.destroy();
  });
});
