import { describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import type { Body, OfferRecord } from '../../src/domain/records.js';
import { OfferCreate } from '../../src/domain/schemas/offer.js';
import type { Store } from '../../src/ports/store.js';

/** A complete offer body with every default, as the API would store it. */
function offerBody(advertiserId: number, name: string): Body<OfferRecord> {
  const input = Value.Default(OfferCreate, { advertiser_id: advertiserId, name, destination_url: 'https://x.example/' });
  const { postback_secret: _secret, ...rest } = input as Record<string, unknown>;
  return { ...rest, postback_secret_hash: null } as Body<OfferRecord>;
}

/**
 * The behaviour every storage adapter must show, written against the port only. Each adapter's
 * test file calls this with a factory that opens a fresh, empty store.
 */
export function storeConformance(adapter: string, open: () => Promise<Store>): void {
  describe(`${adapter} store conformance`, () => {
    const withStore = async (fn: (store: Store) => Promise<void>) => {
      const store = await open();
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    };

    it('inserts, reads, lists with paging and filters, updates with versions, and removes', () =>
      withStore(async (store) => {
        const a = await store.advertisers.insert({ name: 'A', status: 'active', default_currency: 'USD' });
        const b = await store.advertisers.insert({ name: 'B', status: 'inactive', default_currency: 'EUR' });
        expect(a).toMatchObject({ id: expect.any(Number), version: 1, name: 'A' });
        expect(await store.advertisers.get(a.id)).toEqual(a);
        expect(await store.advertisers.get(999_999)).toBeUndefined();

        const page = await store.advertisers.list({ page: 2, pageSize: 1 });
        expect(page).toEqual({ rows: [b], total: 2 });
        expect((await store.advertisers.list({ page: 1, pageSize: 10, where: { status: 'inactive' } })).rows).toEqual([b]);

        const updated = await store.advertisers.update(a.id, { name: 'A2', status: 'active', default_currency: 'USD' }, 1);
        expect(updated).toMatchObject({ ok: true, record: { name: 'A2', version: 2 } });
        expect(await store.advertisers.update(a.id, { name: 'lost', status: 'active', default_currency: 'USD' }, 1)).toEqual({ ok: false, reason: 'conflict' });
        expect(await store.advertisers.update(999_999, { name: 'x', status: 'active', default_currency: 'USD' })).toEqual({ ok: false, reason: 'not_found' });

        expect(await store.advertisers.remove(b.id)).toBe(true);
        expect(await store.advertisers.remove(b.id)).toBe(false);
      }));

    it('rolls back every write of a failed transaction', () =>
      withStore(async (store) => {
        await expect(
          store.transaction(async (tx) => {
            await tx.advertisers.insert({ name: 'doomed', status: 'active', default_currency: 'USD' });
            throw new Error('abort');
          }),
        ).rejects.toThrow('abort');
        expect((await store.advertisers.list({ page: 1, pageSize: 10 })).total).toBe(0);
      }));

    it('gives smart-link entries stable ids and answers which live links use an offer', () =>
      withStore(async (store) => {
        const adv = await store.advertisers.insert({ name: 'A', status: 'active', default_currency: 'USD' });
        const o1 = await store.offers.insert(offerBody(adv.id, 'o1'));
        const o2 = await store.offers.insert(offerBody(adv.id, 'o2'));
        const link = await store.transaction((tx) =>
          tx.smartLinks.insert({
            name: 'L', status: 'active', tracking_domain_id: null, routing: 'priority', catch_all_offer_id: null, visible_to_partners: false, kpi: null,
            entries: [{ offer_id: o1.id, offer_url_id: null, routing_value: 1, ruleset: null }],
          }),
        );
        const [entry] = link.entries;
        expect(entry?.id).toEqual(expect.any(Number));
        expect(await store.references.smartLinksUsingOffer(o1.id)).toEqual([link.id]);

        const { id: _i, version: _v, created_at: _c, updated_at: _u, ...body } = link;
        const result = await store.transaction((tx) =>
          tx.smartLinks.update(link.id, { ...body, entries: [{ ...entry!, routing_value: 5 }, { offer_id: o2.id, offer_url_id: null, routing_value: 2, ruleset: null }] }),
        );
        if (!result.ok) throw new Error('update failed');
        expect(result.record.entries[0]).toEqual({ ...entry, routing_value: 5 });
        expect(result.record.entries[1]?.id).toBeGreaterThan(entry!.id);
        expect(await store.references.smartLinksUsingOffer(o2.id)).toEqual([link.id]);

        await store.transaction((tx) => tx.smartLinks.update(link.id, { ...body, status: 'deleted', entries: result.record.entries }));
        expect(await store.references.smartLinksUsingOffer(o1.id)).toEqual([]);
      }));

    it('keeps one access record per offer and partner, versioned', () =>
      withStore(async (store) => {
        const first = await store.offerAccess.put({ offer_id: 1, partner_id: 2, state: 'pending', caps: [] });
        const second = await store.offerAccess.put({ offer_id: 1, partner_id: 2, state: 'approved', caps: [] });
        expect(first.version).toBe(1);
        expect(second).toMatchObject({ state: 'approved', version: 2 });
        expect(await store.offerAccess.all()).toEqual([second]);
      }));

    it('creates a named secret once and returns the same value afterwards', () =>
      withStore(async (store) => {
        const first = await store.secrets.getOrCreate('signing', () => 'one');
        expect(first).toBe('one');
        expect(await store.secrets.getOrCreate('signing', () => 'two')).toBe('one');
      }));

    it('stores settings with a version guard', () =>
      withStore(async (store) => {
        expect(await store.settings.get()).toEqual({ global_fail_redirect_url: null, version: 0 });
        const saved = await store.settings.put({ global_fail_redirect_url: 'https://f.example/' }, 0);
        expect(saved).toEqual({ ok: true, record: { global_fail_redirect_url: 'https://f.example/', version: 1 } });
        expect(await store.settings.put({ global_fail_redirect_url: null }, 0)).toEqual({ ok: false, reason: 'conflict' });
      }));
  });
}
