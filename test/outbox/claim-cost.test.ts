import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { sqlOutboxRepo } from '../../src/store/sql/outbox-repo.js';
import { ImmediateSqliteDialect } from '../../src/store/sqlite/immediate-dialect.js';
import { DATABASE_FILE, openSqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir } from '../support/api-server.js';

/**
 * A claim runs on the server's main thread, so its work must not grow with the number of partners
 * or the length of a backlog: counted here in statements, which do not depend on the machine.
 */

const NOW = new Date('2026-01-01T00:00:00.000Z');

async function outboxWith(rows: { partner: number; at: string }[]) {
  const dir = tempDir();
  await (await openSqliteStore({ dataDir: dir, synchronous: 'normal' })).close();
  const raw = new Database(path.join(dir, DATABASE_FILE));
  const insert = raw.prepare(`insert into partner_postbacks (conversion_id, partner_id, url, state, attempts, next_attempt_at, created_at)
    values (?, ?, 'https://x.example/', 'pending', 1, ?, ?)`);
  raw.transaction(() => rows.forEach((row, i) => insert.run(i + 1, row.partner, row.at, row.at)))();
  let statements = 0;
  const db = new Kysely<any>({ dialect: new ImmediateSqliteDialect({ database: raw }), log: () => void statements++ });
  return { repo: sqlOutboxRepo(db as never), counted: () => statements, reset: () => void (statements = 0), close: () => db.destroy() };
}

describe('claiming postbacks', () => {
  it('an idle poll is one statement, however many partners have retries waiting for later', async () => {
    const outbox = await outboxWith(Array.from({ length: 5000 }, (_, i) => ({ partner: i + 1, at: '2030-01-01T00:00:00.000Z' })));
    expect(await outbox.repo.claimDue(NOW, new Date(NOW.getTime() + 60_000), 8)).toEqual([]);
    expect(outbox.counted()).toBe(1);
    await outbox.close();
  });

  it('a claim is a few statements however many partners have rows due, and partners take turns across claims', async () => {
    const outbox = await outboxWith(Array.from({ length: 5000 }, (_, i) => ({ partner: i + 1, at: '2025-01-01T00:00:00.000Z' })));
    const partners = new Set<number>();
    for (let claim = 0; claim < 5; claim++) {
      outbox.reset();
      const claimed = await outbox.repo.claimDue(NOW, new Date(NOW.getTime() + 60_000), 2);
      expect(claimed).toHaveLength(2);
      expect(outbox.counted()).toBeLessThanOrEqual(7);
      claimed.forEach((row) => partners.add(row.partner_id));
    }
    expect(partners.size).toBe(10);
    await outbox.close();
  });
});
