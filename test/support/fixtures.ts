import { expect } from 'vitest';
import type { TestServer } from './api-server.js';

/** Creates a resource through the API and fails the test with the server's answer if it cannot. */
export async function create<T = any>(server: TestServer, path: string, body: unknown): Promise<T & { id: number; version: number }> {
  const res = await server.call('POST', path, body);
  expect(res.status, `POST ${path} answered ${JSON.stringify(res.body)}`).toBe(201);
  return res.body;
}

/** An advertiser with one offer, that offer's URL, a partner and a smart link using both. */
export async function basicNetwork(server: TestServer) {
  const advertiser = await create(server, '/api/v1/advertisers', { name: 'Acme Games' });
  const offer = await create(server, '/api/v1/offers', {
    advertiser_id: advertiser.id,
    name: 'Acme iOS install',
    destination_url: 'https://acme.example/land?click={transaction_id}',
  });
  const offerUrl = await create(server, `/api/v1/offers/${offer.id}/urls`, {
    name: 'Creative B',
    destination_url: 'https://acme.example/b?click={transaction_id}',
  });
  const partner = await create(server, '/api/v1/partners', { name: 'Traffic Co' });
  const smartLink = await create(server, '/api/v1/smart-links', {
    name: 'Games bundle',
    routing: 'weight',
    entries: [
      { offer_id: offer.id, routing_value: 50 },
      { offer_id: offer.id, offer_url_id: offerUrl.id, routing_value: 50 },
    ],
  });
  return { advertiser, offer, offerUrl, partner, smartLink };
}

/**
 * The smallest network a click can reach: one offer (`offer` adds to or overrides its fields) as the
 * only entry of a smart link, and a partner's tracking link to it.
 */
export async function oneOfferLink(server: TestServer, offer: Record<string, unknown> = {}): Promise<{ offerId: number; token: string }> {
  const advertiser = await create(server, '/api/v1/advertisers', { name: 'Acme' });
  const partner = await create(server, '/api/v1/partners', { name: 'Traffic Co' });
  const offerId = (await create(server, '/api/v1/offers', { advertiser_id: advertiser.id, name: 'O', destination_url: 'https://dest.example/?t={transaction_id}', ...offer })).id;
  const link = await create(server, '/api/v1/smart-links', { name: 'L', entries: [{ offer_id: offerId }] });
  const { token } = await create<{ token: string }>(server, `/api/v1/smart-links/${link.id}/tracking-links`, { partner_id: partner.id });
  return { offerId, token };
}
