import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../support/api-server.js';
import { withClicksDb } from '../support/clicks.js';
import { callApi, killServerProcesses, startServerProcess, type ServerProcess } from '../support/server-process.js';

/**
 * SPEC §8, §12.1: caps counters survive kill -9. `node dist/main.js` takes clicks and conversions,
 * is SIGKILLed mid-load, restarts on the same DATA_DIR, and then every counter explain reports
 * (offer and partner, every period and metric) equals the count recomputed with SQL from the
 * stored clicks and conversions: reservations of unanswered clicks died with the process, and
 * answered ones are stored.
 */

const ADMIN_KEY = 'live-state-admin-key-0123456789';
const CONCURRENCY = 32;
const LOAD_MS = 1500;
const METRICS = ['clicks', 'conversions', 'payout', 'revenue'] as const;
const PERIODS = ['daily', 'weekly', 'monthly', 'global'] as const;

let dataDir: string | undefined;
afterEach(() => {
  killServerProcesses();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

interface Network {
  smartLinkId: number;
  partnerId: number;
  token: string;
  offerIds: number[];
}

// Limits far above the load: the caps are there to be counted, not to be reached.
const caps = (mode: 'hard' | 'soft') =>
  METRICS.flatMap((metric) => PERIODS.map((period) => ({ metric, period, limit: 1_000_000_000, mode })));

async function buildNetwork(url: string): Promise<Network> {
  const api = async (method: string, route: string, body: unknown) => {
    const res = await callApi(url, ADMIN_KEY, method, route, body);
    expect(res.status, `${method} ${route} answered ${JSON.stringify(res.body)}`).toBeLessThan(300);
    return res.body;
  };
  const advertiser = await api('POST', '/api/v1/advertisers', { name: 'Counted' });
  const partner = await api('POST', '/api/v1/partners', { name: 'Counted partner' });
  const offerIds: number[] = [];
  for (const [i, name] of ['a', 'b'].entries()) {
    const offer = await api('POST', '/api/v1/offers', {
      advertiser_id: advertiser.id,
      name: `Offer ${name}`,
      destination_url: `https://${name}.example/?tid={transaction_id}`,
      payout: { type: 'fixed', value: 1.25 },
      revenue: { type: 'percent', value: 10 },
      caps: caps(i === 0 ? 'hard' : 'soft'),
    });
    offerIds.push(offer.id);
    await api('PUT', `/api/v1/offers/${offer.id}/access/${partner.id}`, { state: 'approved', caps: caps('soft') });
  }
  const link = await api('POST', '/api/v1/smart-links', {
    name: 'Counted link',
    routing: 'weight',
    entries: offerIds.map((offerId) => ({ offer_id: offerId, routing_value: 1 })),
  });
  const tracking = await api('POST', `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: partner.id });
  return { smartLinkId: link.id, partnerId: partner.id, token: tracking.token, offerIds };
}

/** Clicks (and converts every third click) with CONCURRENCY in flight, then SIGKILLs mid-load. */
async function loadAndKill(proc: ServerProcess, token: string): Promise<number> {
  const started = Date.now();
  let killed = false;
  let answered = 0;
  const worker = async (n: number) => {
    for (let i = 0; !killed; i++) {
      try {
        const res = await fetch(`${proc.url}/sl/${token}`, { redirect: 'manual' });
        const location = res.headers.get('location');
        await res.arrayBuffer().catch(() => undefined);
        if (res.status === 302 && location !== null) {
          answered++;
          const tid = new URL(location).searchParams.get('tid');
          if (tid !== null && (i + n) % 3 === 0) {
            const pb = await fetch(`${proc.url}/postback?transaction_id=${tid}&amount=${(i % 7) + 0.5}`);
            await pb.arrayBuffer().catch(() => undefined);
          }
        }
      } catch {
        // Requests cut by the kill.
      }
      if (Date.now() - started >= LOAD_MS && !killed) {
        killed = true;
        proc.child.kill('SIGKILL');
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, n) => worker(n)));
  await proc.stop('SIGKILL');
  return answered;
}

/** The start (ISO UTC) of the UTC day, Monday-based week and month of `nowMs`. */
function periodStarts(nowMs: number): Record<(typeof PERIODS)[number], string> {
  const d = new Date(nowMs);
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  const week = day - ((d.getUTCDay() + 6) % 7) * 86_400_000;
  const month = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  return { daily: new Date(day).toISOString(), weekly: new Date(week).toISOString(), monthly: new Date(month).toISOString(), global: '0000' };
}

/** The counter recomputed from the database file: routed clicks, approved + pending conversions. */
function sqlCount(dir: string, offerId: number, partnerId: number | null, metric: (typeof METRICS)[number], since: string): number {
  return withClicksDb(dir, (db) => {
    const partner = partnerId === null ? '' : ' and partner_id = @partnerId';
    const args = { offerId, partnerId, since };
    if (metric === 'clicks') {
      return (db.prepare(`select count(*) as n from clicks where offer_id = @offerId${partner} and time >= @since
        and outcome in ('routed', 'catch_all', 'fail_traffic')`).get(args) as { n: number }).n;
    }
    const expr = metric === 'conversions' ? `sum(case when event_key = '' then 1 else 0 end)` : `sum(${metric}_micros)`;
    const value = (db.prepare(`select ${expr} as n from conversions where offer_id = @offerId${partner} and time >= @since
      and status in ('approved', 'pending')`).get(args) as { n: number | null }).n ?? 0;
    return metric === 'conversions' ? value : value / 1_000_000;
  });
}

describe('caps counters across kill -9 (SPEC §8, §12.1)', () => {
  it('after kill -9 mid-load and a restart, every offer and partner counter equals the count recomputed from stored clicks and conversions', async () => {
    dataDir = tempDir('switchyard-live-');
    const env = { DATA_DIR: dataDir, SWITCHYARD_ADMIN_KEY: ADMIN_KEY, SQLITE_SYNCHRONOUS: 'normal' };
    const first = await startServerProcess(env);
    const network = await buildNetwork(first.url);
    const answered = await loadAndKill(first, network.token);
    expect(answered).toBeGreaterThanOrEqual(100);

    const second = await startServerProcess(env);
    const at = new Date().toISOString();
    const explained = await callApi(second.url, ADMIN_KEY, 'POST', `/api/v1/smart-links/${network.smartLinkId}/explain`, { partner_id: network.partnerId, at, seed: 1 });
    expect(explained.status, JSON.stringify(explained.body)).toBe(200);
    const starts = periodStarts(Date.parse(at));
    let compared = 0;
    for (const candidate of explained.body.candidates as { offer_id: number; caps: { scope: string; metric: (typeof METRICS)[number]; period: (typeof PERIODS)[number]; used: number }[] }[]) {
      expect(candidate.caps).toHaveLength(METRICS.length * PERIODS.length * 2);
      for (const cap of candidate.caps) {
        const partnerId = cap.scope === 'partner' ? network.partnerId : null;
        const expected = sqlCount(dataDir, candidate.offer_id, partnerId, cap.metric, starts[cap.period]);
        expect(cap.used, `${cap.scope} ${cap.metric} ${cap.period} of offer ${candidate.offer_id}`).toBeCloseTo(expected, 6);
        compared++;
      }
    }
    expect(compared).toBe(network.offerIds.length * METRICS.length * PERIODS.length * 2);
    const totalClicks = network.offerIds.reduce((sum, id) => sum + sqlCount(dataDir as string, id, null, 'clicks', '0000'), 0);
    expect(totalClicks).toBeGreaterThanOrEqual(answered);
    // The comparison covered real conversions too, not only zeros.
    const totalConversions = network.offerIds.reduce((sum, id) => sum + sqlCount(dataDir as string, id, null, 'conversions', '0000'), 0);
    expect(totalConversions).toBeGreaterThan(0);
    await second.stop('SIGKILL');
  }, 30_000);
});
