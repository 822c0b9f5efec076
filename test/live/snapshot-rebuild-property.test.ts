import fs from 'node:fs';
import fc from 'fast-check';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Snapshot } from '../../src/engine/index.js';
import type { Meta } from '../../src/domain/records.js';
import { createSnapshotHolder, loadSnapshot } from '../../src/live/snapshot-holder.js';
import type { Store } from '../../src/ports/store.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir } from '../support/api-server.js';

/**
 * The holder's incremental rebuild (stamps, record reuse, SnapshotMemo) must route exactly as a fresh
 * load of the same configuration, after any sequence of changes: random sequences of writes of every
 * kind, with rebuilds at random points, under a frozen clock (every write in the same millisecond).
 */

let dataDir: string;
let store: Store;
const FROZEN = new Date('2030-01-01T00:00:00.000Z');
beforeEach(async () => {
  dataDir = tempDir();
  store = await openSqliteStore({ dataDir, synchronous: 'normal', clock: () => FROZEN });
});
afterEach(async () => {
  await store.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const bodyOf = <R extends Meta>({ id: _id, version: _v, created_at: _c, updated_at: _u, ...body }: R) => body as any;

/** The snapshot as plain data; views held by other views appear in full, so a stale one shows. */
function canon(value: unknown): unknown {
  if (typeof value === 'function') return '[fn]';
  if (value instanceof Map) return [...value.entries()].sort(([a], [b]) => Number(a) - Number(b)).map(([k, v]) => [k, canon(v)]);
  if (value instanceof Set) return [...value].sort().map(canon);
  if (Array.isArray(value)) return value.map(canon);
  if (value instanceof RegExp) return String(value);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, canon(v)]));
  return value;
}

/** Every link entry holds the snapshot's own view of its offer. */
function linked(snapshot: Snapshot): string[] {
  const wrong: string[] = [];
  for (const link of snapshot.smartLinks.values()) {
    for (const entry of link.entries) {
      if (entry.offer !== snapshot.offers.get(entry.offerId)) wrong.push(`link ${link.id} entry ${entry.id}: offer view not current`);
      if (entry.target.offer !== entry.offer) wrong.push(`link ${link.id} entry ${entry.id}: target offer differs`);
    }
  }
  return wrong;
}

const STATUSES = ['active', 'paused', 'pending', 'deleted'] as const;
const ADV = ['active', 'inactive', 'deleted'] as const;
const rulesets = [null, { rules: [{ dimension: 'country', op: 'include', values: ['US'] }] }, { rules: [{ dimension: 'sub1', op: 'exclude', values: ['x', 'y'] }] }, { rules: [{ dimension: 'country', op: 'exclude', values: ['FR'] }] }];
let hostSeq = 0;
const zones = ['UTC', 'Europe/Paris', 'America/New_York'];

type Op = { kind: number; a: number; b: number; c: number };
const op = fc.record({ kind: fc.integer({ min: 0, max: 17 }), a: fc.nat(50), b: fc.nat(50), c: fc.nat(50) });

async function apply(o: Op, ids: { adv: number[]; offers: number[]; urls: number[]; partners: number[]; links: number[]; domains: number[] }, holder: { rebuild(): Promise<unknown> }) {
  const pick = (list: number[], n: number) => list[n % list.length];
  const offerBody = (advertiser: number) => ({
    advertiser_id: advertiser, name: `O${o.a}`, status: STATUSES[o.b % 4], visibility: (['public', 'require_approval', 'private'] as const)[o.c % 3], expires_at: null,
    destination_url: `https://o${o.a}.example/?c={transaction_id}`, caps: o.c % 2 ? [{ metric: 'clicks', period: 'daily', limit: o.a + 1, mode: 'hard' }] : [],
    caps_timezone: zones[o.a % 3], duplicate_filter: { enabled: o.b % 2 === 0 }, block_already_converted: false, redirect_mode: 'standard',
    attribution_window_days: 30, deep_link: null, ruleset: rulesets[o.c % 4],
    fail_traffic: ids.offers.length && o.a % 3 === 0 ? { mode: 'priority', destinations: [{ type: 'offer', id: pick(ids.offers, o.b), routing_value: 0 }] } : null,
    postback_secret_hash: null, conversion_method: 'postback',
  });
  switch (o.kind) {
    case 0: ids.adv.push((await store.advertisers.insert({ name: `A${o.a}`, status: ADV[o.b % 3], default_currency: 'USD' } as never)).id); break;
    case 1: { const id = pick(ids.adv, o.a); if (id === undefined) break; const r = (await store.advertisers.get(id))!; await store.advertisers.update(id, { ...bodyOf(r), status: ADV[o.b % 3] }); break; }
    case 2: { const adv = pick(ids.adv, o.a); if (adv === undefined) break; ids.offers.push((await store.offers.insert(offerBody(adv) as never)).id); break; }
    case 3: case 4: { const id = pick(ids.offers, o.a); const adv = pick(ids.adv, o.c); if (id === undefined || adv === undefined) break; await store.offers.update(id, offerBody(adv) as never); break; }
    case 5: { const offer = pick(ids.offers, o.a); if (offer === undefined) break; ids.urls.push((await store.offerUrls.insert({ offer_id: offer, name: 'u', status: 'active', destination_url: `https://u${o.b}.example/`, partner_ids: ids.partners.length && o.c % 2 ? [pick(ids.partners, o.c)] : null } as never)).id); break; }
    case 6: { const id = pick(ids.urls, o.a); if (id === undefined) break; const r = (await store.offerUrls.get(id))!; await store.offerUrls.update(id, { ...bodyOf(r), status: (['active', 'paused', 'deleted'] as const)[o.b % 3], destination_url: `https://u${o.c}.example/` }); break; }
    case 7: ids.partners.push((await store.partners.insert({ name: `P${o.a}`, status: o.b % 2 ? 'active' : 'suspended', postback_url: null } as never)).id); break;
    case 8: { const id = pick(ids.partners, o.a); if (id === undefined) break; const r = (await store.partners.get(id))!; await store.partners.update(id, { ...bodyOf(r), status: o.b % 2 ? 'active' : 'suspended' }); break; }
    case 9: { const id = pick(ids.partners, o.a); if (id === undefined) break; await store.transaction(async (tx) => { await tx.offerAccess.removeForPartner(id); await tx.partners.remove(id); }); ids.partners = ids.partners.filter((p) => p !== id); break; }
    case 10: case 11: { const offer = pick(ids.offers, o.a); const partner = pick(ids.partners, o.b); if (offer === undefined || partner === undefined) break; await store.offerAccess.put({ offer_id: offer, partner_id: partner, state: (['approved', 'blocked', 'pending'] as const)[o.c % 3] as never, caps: o.c % 2 ? [{ metric: 'clicks', period: 'daily', limit: o.c + 1, mode: 'hard' }] : [] }); break; }
    case 12: case 13: {
      if (ids.offers.length === 0) break;
      const entries = Array.from({ length: 1 + (o.b % 4) }, (_, i) => ({ offer_id: pick(ids.offers, o.a + i)!, offer_url_id: null, routing_value: (o.c + i) % 5, ruleset: rulesets[(o.a + i) % 4] }));
      const kpi = o.c % 3 === 0 ? { metric: 'cr', algorithm: o.a % 2 ? 'ranking' : 'thompson' } : null;
      const body = { name: `L${o.a}`, status: STATUSES[o.b % 4] === 'pending' ? 'active' : STATUSES[o.b % 4], tracking_domain_id: ids.domains.length && o.a % 2 ? pick(ids.domains, o.a) : null, routing: kpi ? 'kpi' : (['priority', 'weight'] as const)[o.a % 2], catch_all_offer_id: o.b % 2 ? pick(ids.offers, o.c) : null, visible_to_partners: false, kpi, entries };
      const existing = o.kind === 13 ? pick(ids.links, o.a) : undefined;
      if (existing === undefined) ids.links.push((await store.transaction((tx) => tx.smartLinks.insert(body as never))).id);
      else {
        const r = (await store.smartLinks.get(existing))!;
        const keep = r.entries.slice(0, o.c % 3).map((e) => ({ ...e, routing_value: e.routing_value + 1 }));
        await store.transaction((tx) => tx.smartLinks.update(existing, { ...body, entries: [...keep, ...entries] } as never));
      }
      break;
    }
    case 14: { const id = pick(ids.links, o.a); if (id === undefined) break; await store.transaction((tx) => tx.smartLinks.remove(id)); ids.links = ids.links.filter((l) => l !== id); break; }
    case 15: ids.domains.push((await store.trackingDomains.insert({ host: `d${++hostSeq}.example`, scheme: o.b % 2 ? 'https' : 'http', is_default: o.c % 2 === 0 } as never)).id); break;
    case 16: { const link = pick(ids.links, o.a); if (link === undefined) break; await store.kpi.reset({ smartLinkId: link, reason: 'settings_changed' as never, at: FROZEN.toISOString(), algorithm: 'thompson' as never, metric: 'cr' as never, goal: null }); break; }
    case 17: {
      if (o.b % 2) { const s = await store.settings.get(); await store.settings.put({ global_fail_redirect_url: o.c % 2 ? `https://fail${o.c}.example/` : null }, s.version); }
      // Many offers at once: more than the holder reads row by row.
      else for (const id of ids.offers) { const r = (await store.offers.get(id))!; await store.offers.update(id, { ...bodyOf(r), caps_timezone: zones[(o.c + id) % 3] }); }
      break;
    }
  }
  if (o.a % 3 === 0) await holder.rebuild();
}

it('a rebuilt snapshot equals a fresh load after random sequences of changes', async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 60 }), async (ops) => {
      run++;
      // Each run on its own data: a fresh database would cost a migration per run.
      const ids = { adv: [] as number[], offers: [] as number[], urls: [] as number[], partners: [] as number[], links: [] as number[], domains: [] as number[] };
      const none = { rebuild: async () => undefined };
      // A base network first, so the random changes have records to change.
      const seed: Op[] = [
        ...[0, 1, 2].map((i) => ({ kind: 0, a: 1, b: i, c: 0 })),
        ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => ({ kind: 2, a: i * 3 + 1, b: i, c: i })),
        ...[0, 1, 2].map((i) => ({ kind: 7, a: 1, b: i, c: 0 })),
        ...[0, 1, 2, 3].map((i) => ({ kind: 10, a: i, b: i, c: i })),
        ...[0, 1, 2].map((i) => ({ kind: 12, a: i * 2 + 1, b: i + 2, c: i })),
        { kind: 5, a: 1, b: 1, c: 1 },
      ];
      for (const o of seed) await apply(o, ids, none);
      const holder = await createSnapshotHolder(store);
      for (const o of ops) await apply(o, ids, holder);
      const cached = await holder.rebuild();
      const fresh = await loadSnapshot(store);
      expect(linked(cached)).toEqual([]);
      expect(canon(cached)).toEqual(canon(fresh));
    }),
    { numRuns: Number(process.env.RUNS ?? 25), seed: Number(process.env.SEED ?? 424242) },
  );
  expect(run).toBeGreaterThan(0);
}, 240_000);
