import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../support/api-server.js';
import { withClicksDb } from '../support/clicks.js';
import { callApi, killServerProcesses, startServerProcess, type ServerProcess } from '../support/server-process.js';

/**
 * SPEC §10.1 (a 2xx postback is durable), §11 (figures equal raw counts) and §12.1 (duplicate memory
 * consistent with stored clicks) across kill -9: clicks from many visitors (by IP) and postbacks under
 * load, SIGKILL, restart; then every 200-answered conversion is stored, the report equals the raw rows,
 * and a visitor is a duplicate exactly when a click of theirs is stored.
 */

const ADMIN_KEY = 'kill9-reports-admin-key-0123';
const CONCURRENCY = 24;
const LOAD_MS = 1500;
const VISITORS = 400;
const ip = (n: number) => `8.${8 + (n >> 8)}.${n & 255}.1`;

let dataDir: string | undefined;
afterEach(() => {
  killServerProcesses();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

describe('kill -9 mid-load: conversions, reports and duplicate memory (SPEC §10.1, §11, §12.1)', () => {
  it.each(['full', 'normal'])('SQLITE_SYNCHRONOUS=%s', async (synchronous) => {
    dataDir = tempDir('switchyard-k9r-');
    const env = { DATA_DIR: dataDir, SWITCHYARD_ADMIN_KEY: ADMIN_KEY, SQLITE_SYNCHRONOUS: synchronous, TRUST_PROXY: 'loopback' };
    const first = await startServerProcess(env);
    const api = async (proc: ServerProcess, method: string, route: string, body?: unknown) => {
      const res = await callApi(proc.url, ADMIN_KEY, method, route, body);
      expect(res.status, `${method} ${route}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
      return res.body;
    };
    const advertiser = await api(first, 'POST', '/api/v1/advertisers', { name: 'Acme' });
    const partner = await api(first, 'POST', '/api/v1/partners', { name: 'P' });
    const offer = await api(first, 'POST', '/api/v1/offers', {
      advertiser_id: advertiser.id, name: 'Dup-filtered', destination_url: 'https://a.example/?tid={transaction_id}',
      payout: { type: 'fixed', value: 1.25 }, revenue: { type: 'percent', value: 10 },
      duplicate_filter: { enabled: true, identifier: 'ip', window_hours: 24, action: 'block' },
    });
    const link = await api(first, 'POST', '/api/v1/smart-links', { name: 'L', entries: [{ offer_id: offer.id }] });
    const token = (await api(first, 'POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: partner.id })).token as string;

    const acknowledgedConversions: string[] = [];
    let next = 0;
    let killed = false;
    const started = Date.now();
    const worker = async () => {
      while (!killed && next < VISITORS) {
        const n = next++;
        try {
          const res = await fetch(`${first.url}/sl/${token}`, { redirect: 'manual', headers: { 'x-forwarded-for': ip(n) } });
          await res.arrayBuffer().catch(() => undefined);
          const tid = new URL(res.headers.get('location') ?? 'http://x/').searchParams.get('tid');
          if (res.status === 302 && tid !== null && n % 2 === 0) {
            const pb = await fetch(`${first.url}/postback?transaction_id=${tid}&amount=${(n % 9) + 0.75}`);
            const body = (await pb.json().catch(() => ({}))) as { conversion_id?: number };
            if (pb.status === 200 && body.conversion_id !== undefined) acknowledgedConversions.push(String(body.conversion_id));
          }
        } catch {
          // cut by the kill
        }
        if (!killed && (Date.now() - started > LOAD_MS || next > VISITORS * 0.7)) {
          killed = true;
          first.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await first.stop('SIGKILL');
    expect(acknowledgedConversions.length).toBeGreaterThan(20);

    const second = await startServerProcess(env);
    const raw = withClicksDb(dataDir, (db) => ({
      ips: new Set((db.prepare('select ip from clicks where offer_id = ?').all(offer.id) as { ip: string }[]).map((r) => r.ip)),
      clicks: (db.prepare('select count(*) as n from clicks').get() as { n: number }).n,
      conversionIds: new Set((db.prepare('select id from conversions').all() as { id: number }[]).map((r) => String(r.id))),
      payout: (db.prepare("select coalesce(sum(payout_micros), 0) as n from conversions where status in ('approved','pending')").get() as { n: number }).n,
      conversions: (db.prepare("select count(*) as n from conversions where status in ('approved','pending') and event_key = ''").get() as { n: number }).n,
    }));
    // Every conversion answered 200 is stored.
    expect(acknowledgedConversions.filter((id) => !raw.conversionIds.has(id))).toEqual([]);
    // The report equals the raw records.
    const today = await api(second, 'GET', '/api/v1/reports');
    expect([today.totals.clicks, today.totals.conversions, today.totals.payout]).toEqual([raw.clicks, raw.conversions, raw.payout / 1e6]);
    // Duplicate memory: a visitor with a stored click is a duplicate (the entry skipped, 21); one without is not.
    const mismatched: string[] = [];
    for (let n = 0; n < Math.min(next, VISITORS); n++) {
      const res = await fetch(`${second.url}/sl/${token}`, { redirect: 'manual', headers: { 'x-forwarded-for': ip(n) } });
      await res.arrayBuffer();
      const routed = (res.headers.get('location') ?? '').startsWith('https://a.example/');
      if (routed === raw.ips.has(ip(n))) mismatched.push(`${ip(n)} stored=${raw.ips.has(ip(n))} routed=${routed}`);
    }
    expect(mismatched.slice(0, 5)).toEqual([]);
    await second.stop('SIGKILL');
  }, 40_000);
});
