import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../src/store/sqlite/index.js';
import { startServer, tempDir, type TestServer } from '../support/api-server.js';
import { clickOn, countStoredClicks } from '../support/clicks.js';
import { basicNetwork } from '../support/fixtures.js';

/**
 * README "Backups": the online backup it documents (`vacuum into` through a read-only connection,
 * as `sqlite3 … "vacuum into '…'"` does) holds every click answered before it began, while clicks
 * keep being answered, and a DATA_DIR restored from it serves.
 */

const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

describe('backing up a running server (README "Backups")', () => {
  it('vacuum into a file holds every answered click, holds up no click, and restores', async () => {
    const server = await startServer();
    servers.push(server);
    const { smartLink, partner } = await basicNetwork(server);
    const token = (await server.call('POST', `/api/v1/smart-links/${smartLink.id}/tracking-links`, { partner_id: partner.id })).body.token as string;
    for (let i = 0; i < 50; i++) expect((await clickOn(server.url, token)).status).toBe(302);
    const answered = countStoredClicks(server.dataDir);
    expect(answered).toBe(50);

    // The documented online backup, with clicks arriving meanwhile.
    const backupDir = tempDir();
    const backupFile = path.join(backupDir, DATABASE_FILE);
    const during = Promise.all(Array.from({ length: 20 }, () => clickOn(server.url, token)));
    const source = new Database(path.join(server.dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
    try {
      source.exec(`vacuum into '${backupFile.replace(/'/g, "''")}'`);
    } finally {
      source.close();
    }
    expect((await during).map((a) => a.status)).toEqual(Array(20).fill(302));
    const restored = await startServer({ dataDir: backupDir });
    servers.push(restored);
    const report = await restored.call('GET', '/api/v1/reports');
    expect(report.body.totals.clicks).toBeGreaterThanOrEqual(answered);
    expect(report.body.totals.clicks).toBe(countStoredClicks(backupDir));
    expect((await clickOn(restored.url, token)).status).toBe(302);
  });
});
