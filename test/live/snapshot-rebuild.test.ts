import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/engine/index.js';
import type { Meta } from '../../src/domain/records.js';
import { createSnapshotHolder, loadSnapshot, type SnapshotHolder } from '../../src/live/snapshot-holder.js';
import type { Store } from '../../src/ports/store.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir } from '../support/api-server.js';

/**
 * The snapshot is rebuilt after every configuration change, on the event loop: while it builds, no
 * click is answered. Rebuilt whole, a network's catalogue (5,000 offers, 300 links of up to 500
 * entries, 20,000 access rows) held every click for 0.6 s after each change, and several seconds with
 * rulesets near their limits (found by review). A rebuild reads and compiles only what changed.
 */

let dataDir: string;
let store: Store;
beforeEach(async () => {
  dataDir = tempDir();
  store = await openSqliteStore({ dataDir, synchronous: 'normal' });
});
afterEach(async () => {
  await store.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const bodyOf = <R extends Meta>({ id: _id, version: _v, created_at: _c, updated_at: _u, ...body }: R) => body;

async function network(offerCount: number) {
  const advertisers = [
    await store.advertisers.insert({ name: 'A', status: 'active', default_currency: 'USD' } as never),
    await store.advertisers.insert({ name: 'B', status: 'active', default_currency: 'USD' } as never),
  ];
  const offers = [];
  for (let i = 0; i < offerCount; i++) {
    offers.push(await store.offers.insert({
      advertiser_id: advertisers[i % 2]!.id, name: `Offer ${i}`, status: 'active', visibility: 'public', expires_at: null,
      destination_url: `https://o${i}.example/?c={transaction_id}`, caps: [], caps_timezone: 'UTC', duplicate_filter: {},
      block_already_converted: false, redirect_mode: 'standard', attribution_window_days: 30, deep_link: null, fail_traffic: null,
      ruleset: { rules: [{ dimension: 'sub1', op: 'exclude', values: Array.from({ length: 200 }, (_, v) => `o${i}v${v}`) }] },
      postback_secret_hash: null, conversion_method: 'postback',
    } as never));
  }
  const partner = await store.partners.insert({ name: 'P', status: 'active', postback_url: null } as never);
  await store.offerAccess.put({ offer_id: offers[0]!.id, partner_id: partner.id, state: 'approved', caps: [] });
  const entries = offers.map((offer, i) => ({
    offer_id: offer.id, offer_url_id: null, routing_value: i,
    ruleset: { rules: [{ dimension: 'country' as const, op: 'include' as const, values: ['US', `C${i % 10}`] }] },
  }));
  const links = [];
  for (let l = 0; l < 3; l++) {
    links.push(await store.transaction((tx) => tx.smartLinks.insert({
      name: `Link ${l}`, status: 'active', tracking_domain_id: null, routing: 'weight', catch_all_offer_id: null,
      visible_to_partners: false, kpi: null, entries: l === 0 ? entries : entries.slice(1),
    })));
  }
  return { advertisers, offers, partner, links };
}

/** What a snapshot routes with, as plain data (compiled checks as their dimensions). */
function plain(snapshot: Snapshot) {
  return {
    offers: [...snapshot.offers.values()].map((o) => ({ ...o, ruleset: o.ruleset.checks.map((c) => c.dimension) })),
    offerUrls: [...snapshot.offerUrls.values()],
    links: [...snapshot.smartLinks.values()].map((link) => ({
      ...link,
      entries: link.entries.map((e) => ({ id: e.id, offerId: e.offerId, offer: e.offer?.id, status: e.offer?.status, active: e.offer?.advertiserActive, routingValue: e.routingValue, ruleset: e.ruleset.checks.map((c) => c.dimension) })),
      priorityOrder: link.priorityOrder.map((e) => e.id),
    })),
    access: [...snapshot.access].map(([offerId, byPartner]) => [offerId, [...byPartner]]),
    partners: [...snapshot.partners.values()],
  };
}

describe('snapshot rebuild after a change', () => {
  let holder: SnapshotHolder;

  it('reuses what it compiled from unchanged records, and compiles the changed one afresh', async () => {
    const { offers, links } = await network(40);
    holder = await createSnapshotHolder(store);
    const before = holder.current();
    const changed = offers[7]!;
    await store.offers.update(changed.id, { ...bodyOf(changed), destination_url: 'https://changed.example/' });
    const after = await holder.rebuild();

    expect(after.offers.get(changed.id)?.destination.literals).toEqual(['https://changed.example/']);
    for (const offer of offers.filter((o) => o.id !== changed.id)) {
      expect(after.offers.get(offer.id), `offer ${offer.id}`).toBe(before.offers.get(offer.id));
    }
    // Every link names the changed offer: each gets a view pointing at its new view.
    for (const link of links) {
      const entry = after.smartLinks.get(link.id)?.entries.find((e) => e.offerId === changed.id);
      expect(entry?.offer).toBe(after.offers.get(changed.id));
    }
    expect(after.access).toEqual(before.access);
  });

  it('keeps a link whose offers did not change, and rebuilds one whose record did', async () => {
    const { offers, links } = await network(10);
    holder = await createSnapshotHolder(store);
    const before = holder.current();
    await store.transaction((tx) => tx.smartLinks.update(links[2]!.id, { ...bodyOf(links[2]!), name: 'renamed', entries: links[2]!.entries.slice(0, 3) }));
    const after = await holder.rebuild();
    expect(after.smartLinks.get(links[0]!.id)).toBe(before.smartLinks.get(links[0]!.id));
    expect(after.smartLinks.get(links[2]!.id)?.entries.map((e) => e.offerId)).toEqual(offers.slice(1, 4).map((o) => o.id));
  });

  it('routes with what a fresh load of the same configuration would, after changes of every kind', async () => {
    const { advertisers, offers, partner, links } = await network(90);
    holder = await createSnapshotHolder(store);
    // An advertiser turned inactive changes its offers' views though their records are unchanged.
    await store.advertisers.update(advertisers[1]!.id, { ...bodyOf(advertisers[1]!), status: 'inactive' });
    await holder.rebuild();
    await store.offers.update(offers[2]!.id, { ...bodyOf(offers[2]!), status: 'paused' });
    await store.offerAccess.put({ offer_id: offers[0]!.id, partner_id: partner.id, state: 'blocked', caps: [{ metric: 'clicks', period: 'daily', limit: 5, mode: 'hard' }] });
    await store.offerAccess.put({ offer_id: offers[4]!.id, partner_id: partner.id, state: 'approved', caps: [] });
    await store.offerUrls.insert({ offer_id: offers[3]!.id, name: 'u', status: 'active', destination_url: 'https://u.example/', partner_ids: [partner.id] } as never);
    await store.transaction((tx) => tx.smartLinks.remove(links[1]!.id));
    await holder.rebuild();
    // And many changes at once (more than are read row by row).
    for (const offer of offers.slice(5)) await store.offers.update(offer.id, { ...bodyOf(offer), name: `${offer.name} v2`, caps_timezone: 'Europe/Paris' });
    await store.advertisers.update(advertisers[1]!.id, { ...bodyOf(advertisers[1]!), status: 'active' });
    const cached = await holder.rebuild();

    expect(cached.offers.get(offers[1]!.id)?.advertiserActive).toBe(true);
    expect(cached.offers.get(offers[2]!.id)?.status).toBe('paused');
    expect(cached.smartLinks.has(links[1]!.id)).toBe(false);
    expect(plain(cached)).toEqual(plain(await loadSnapshot(store)));
  });
});
