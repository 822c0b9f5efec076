import { describe, expect, it } from 'vitest';
import { startServer, tempDir } from '../support/api-server.js';
import { basicNetwork } from '../support/fixtures.js';

describe('restart persistence', () => {
  it('everything created survives a stop and a start on the same DATA_DIR', async () => {
    const dataDir = tempDir();
    const first = await startServer({ dataDir });
    const network = await basicNetwork(first);
    await first.call('PUT', `/api/v1/offers/${network.offer.id}/access/${network.partner.id}`, { state: 'approved' });
    await first.call('PUT', '/api/v1/settings', { global_fail_redirect_url: 'https://fallback.example/' });
    const key = (await first.call('POST', `/api/v1/partners/${network.partner.id}/api-keys`)).body.key;
    const paths = [
      `/api/v1/advertisers/${network.advertiser.id}`,
      `/api/v1/offers/${network.offer.id}`,
      `/api/v1/offers/${network.offer.id}/urls/${network.offerUrl.id}`,
      `/api/v1/partners/${network.partner.id}`,
      `/api/v1/smart-links/${network.smartLink.id}`,
      `/api/v1/offers/${network.offer.id}/access/${network.partner.id}`,
      '/api/v1/settings',
    ];
    const before = await Promise.all(paths.map(async (p) => (await first.call('GET', p)).body));
    await first.close();

    const second = await startServer({ dataDir });
    try {
      const after = await Promise.all(paths.map(async (p) => (await second.call('GET', p)).body));
      expect(after).toEqual(before);
      expect((await second.call('GET', `/api/v1/partners/${network.partner.id}`, undefined, { key })).status).toBe(200);
      // Ids keep counting after a restart rather than being reused.
      const next = await second.call('POST', '/api/v1/advertisers', { name: 'After restart' });
      expect(next.body.id).toBeGreaterThan(network.advertiser.id);
    } finally {
      await second.close();
    }
  });
});
