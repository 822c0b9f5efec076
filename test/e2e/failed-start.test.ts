import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../support/api-server.js';
import { withClicksDb } from '../support/clicks.js';
import { startReceiver } from '../support/postback-receiver.js';
import { callApi, killServerProcesses, MAIN, startServerProcess } from '../support/server-process.js';

const ADMIN_KEY = 'failed-start-admin-key-0123';
afterEach(() => killServerProcesses());

describe('a start that cannot listen', () => {
  it('(the port taken by the instance already running on the DATA_DIR) claims no partner postback: they stay due, no attempt used up', async () => {
    const receiver = await startReceiver();
    try {
      const dataDir = tempDir();
      // The running instance sends no postbacks itself, so the queued ones stay due.
      const running = await startServerProcess({ DATA_DIR: dataDir, SWITCHYARD_ADMIN_KEY: ADMIN_KEY, POSTBACK_CONCURRENCY: '0' });
      const api = async (method: string, route: string, body?: unknown) => (await callApi(running.url, ADMIN_KEY, method, route, body)).body;
      const advertiser = await api('POST', '/api/v1/advertisers', { name: 'Acme' });
      const partner = await api('POST', '/api/v1/partners', { name: 'Listening', postback_url: `${receiver.origin}/pb?c={conversion_id}` });
      const offer = await api('POST', '/api/v1/offers', { advertiser_id: advertiser.id, name: 'Converting', destination_url: 'https://shop.example/?tid={transaction_id}' });
      const link = await api('POST', '/api/v1/smart-links', { name: 'Link', entries: [{ offer_id: offer.id }] });
      const token = (await api('POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: partner.id })).token as string;
      for (let i = 0; i < 3; i++) {
        const click = await fetch(`${running.url}/sl/${token}`, { redirect: 'manual' });
        const tid = /tid=([0-9a-f]+)/.exec(click.headers.get('location') ?? '')?.[1] ?? '';
        const converted = await fetch(`${running.url}/postback?transaction_id=${tid}`);
        expect(((await converted.json()) as { status: string }).status).toBe('approved');
      }

      const second = spawnSync(process.execPath, [MAIN], {
        env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, PORT: new URL(running.url).port, HOST: '127.0.0.1', SWITCHYARD_ADMIN_KEY: ADMIN_KEY, POSTBACK_ALLOW_LOOPBACK: '1' },
        encoding: 'utf8',
      });
      expect(second.status).toBe(1);
      expect(second.stderr).toContain('another process already listens there');
      const rows = withClicksDb(dataDir, (db) => db.prepare('select state, attempts from partner_postbacks order by id').all());
      expect(rows).toEqual([0, 1, 2].map(() => ({ state: 'pending', attempts: 0 })));
    } finally {
      await receiver.close();
    }
  }, 30_000);
});
