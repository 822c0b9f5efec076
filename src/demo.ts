import type { FastifyInstance } from 'fastify';
import { API_PREFIX } from './http/app.js';

/** The seed page's example: one offer per platform, three weighted creatives each, and a catch-all. */
const PLATFORMS = [
  { name: 'iOS', rule: { dimension: 'os', op: 'include', values: ['iOS'] } },
  { name: 'Android', rule: { dimension: 'os', op: 'include', values: ['Android'] } },
  { name: 'Desktop', rule: { dimension: 'device_type', op: 'include', values: ['desktop'] } },
] as const;

const CREATIVES = ['A', 'B', 'C'] as const;

export interface DemoResult {
  trackingUrl: string;
  smartLinkId: number;
}

/**
 * Creates the demo network through the management API itself (same validation as any client).
 * The caller runs it only on a database without smart links.
 */
export async function seedDemo(app: FastifyInstance, adminKey: string): Promise<DemoResult> {
  const call = async <T>(method: 'GET' | 'POST', url: string, payload?: object): Promise<T> => {
    const res = await app.inject({ method, url: API_PREFIX + url, payload, headers: { authorization: `Bearer ${adminKey}` } });
    if (res.statusCode >= 300) throw new Error(`demo setup failed at ${method} ${url}: ${res.body}`);
    return res.json<T>();
  };
  const advertiser = await call<{ id: number }>('POST', '/advertisers', { name: 'Demo Games Ltd' });
  const entries: object[] = [];
  for (const platform of PLATFORMS) {
    const offer = await call<{ id: number }>('POST', '/offers', {
      advertiser_id: advertiser.id,
      name: `${platform.name} offer`,
      destination_url: `https://example.com/${platform.name.toLowerCase()}?click={transaction_id}&partner={partner_id}`,
      ruleset: { rules: [platform.rule] },
      payout: { type: 'fixed', value: 1.5 },
      revenue: { type: 'fixed', value: 2.5 },
    });
    for (const creative of CREATIVES) {
      const url = await call<{ id: number }>('POST', `/offers/${offer.id}/urls`, {
        name: `${platform.name} creative ${creative}`,
        destination_url: `https://example.com/${platform.name.toLowerCase()}/creative-${creative.toLowerCase()}?click={transaction_id}`,
      });
      entries.push({ offer_id: offer.id, offer_url_id: url.id, routing_value: 1 });
    }
  }
  const catchAll = await call<{ id: number }>('POST', '/offers', {
    advertiser_id: advertiser.id,
    name: 'Catch-all offer',
    destination_url: 'https://example.com/everything-else?click={transaction_id}',
  });
  const partner = await call<{ id: number }>('POST', '/partners', { name: 'Demo Partner' });
  const smartLink = await call<{ id: number }>('POST', '/smart-links', {
    name: 'Demo: one link for every platform',
    routing: 'weight',
    entries,
    catch_all_offer_id: catchAll.id,
    visible_to_partners: true,
  });
  const link = await call<{ url: string }>('POST', `/smart-links/${smartLink.id}/tracking-links`, { partner_id: partner.id });
  return { trackingUrl: link.url, smartLinkId: smartLink.id };
}

export function demoInstructions(demo: DemoResult, adminKey: string): string {
  return `
Demo network created: smart link ${demo.smartLinkId} routes iOS, Android and desktop visitors to their own
offer, rotating three creatives each by weight; everything else reaches the catch-all offer.

  Admin API key:  ${adminKey}
  Tracking URL:   ${demo.trackingUrl}

Try it:
  curl -si '${demo.trackingUrl}' -A 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1' | grep -i location
  curl -si '${demo.trackingUrl}' -A 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36' | grep -i location
  curl -si '${demo.trackingUrl}' -A 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36' | grep -i location
  curl -si '${demo.trackingUrl}' -A 'curl/8.5' | grep -i location
`;
}
