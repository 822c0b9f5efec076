import type { TestServer } from '../support/api-server.js';
import { create } from '../support/fixtures.js';

/** Three offers on their own hosts (a/b/c.example), one offer URL of offer A, and a partner. */
export interface KpiNetwork {
  partnerId: number;
  offers: { a: number; b: number; c: number };
  offerUrlA: number;
}

export async function kpiNetwork(server: TestServer, offer: Record<string, unknown> = {}): Promise<KpiNetwork> {
  const advertiser = await create(server, '/api/v1/advertisers', { name: 'Acme' });
  const offerOn = async (host: string) =>
    (await create(server, '/api/v1/offers', {
      advertiser_id: advertiser.id, name: `Offer ${host}`, destination_url: `https://${host}.example/land?tid={transaction_id}`, ...offer,
    })).id;
  const offers = { a: await offerOn('a'), b: await offerOn('b'), c: await offerOn('c') };
  const offerUrlA = (await create(server, `/api/v1/offers/${offers.a}/urls`, { name: 'A creative 2', destination_url: 'https://a2.example/land?tid={transaction_id}' })).id;
  const partnerId = (await create(server, '/api/v1/partners', { name: 'Traffic Co' })).id;
  return { partnerId, offers, offerUrlA };
}

/** The host letter a redirect went to (`a`, `b`, `c` or `a2`). */
export function hostOf(location: string | null): string {
  if (location === null) throw new Error('no Location');
  return new URL(location).host.replace('.example', '');
}
