import type { FastifyInstance } from 'fastify';
import { AppError } from '../../domain/errors.js';
import type { AdvertiserRecord, Body } from '../../domain/records.js';
import { Advertiser, AdvertiserFields } from '../../domain/schemas/advertiser.js';
import type { StoreTx } from '../../ports/store.js';
import { registerCrud } from './crud.js';
import type { ApiDeps } from './deps.js';
import { bodyOf } from './helpers.js';

/** The advertiser's offers, counted; refused while any of them is not deleted. */
async function refuseIfLiveOffers(tx: StoreTx, advertiserId: number): Promise<{ offers: number }> {
  const counts = await tx.references.countOffersOfAdvertiser(advertiserId);
  if (counts.live > 0) throw new AppError('conflict', 'this advertiser still has offers; delete or move them first');
  return counts;
}

export function registerAdvertisers(app: FastifyInstance, deps: ApiDeps): void {
  registerCrud<AdvertiserRecord, Body<AdvertiserRecord>>(app, deps, {
    noun: 'advertiser',
    tag: 'advertisers',
    path: '/advertisers',
    fields: AdvertiserFields,
    required: ['name'],
    response: Advertiser,
    filters: { status: AdvertiserFields.properties.status },
    hideStatuses: ['deleted'],
    repo: (tx) => tx.advertisers,
    async prepare({ tx, input, existing }) {
      const body = input as Body<AdvertiserRecord>;
      if (existing && body.status === 'deleted' && existing.status !== 'deleted') await refuseIfLiveOffers(tx, existing.id);
      return body;
    },
    async remove(tx, advertiser) {
      // Deleted offers, and their clicks and conversions, still name the advertiser: then it stays, marked deleted.
      // So do clicks of offers since moved to another advertiser: they keep the one they had.
      const { offers } = await refuseIfLiveOffers(tx, advertiser.id);
      if (offers > 0 || (await tx.references.advertiserHasTraffic(advertiser.id))) await tx.advertisers.update(advertiser.id, { ...bodyOf(advertiser), status: 'deleted' });
      else await tx.advertisers.remove(advertiser.id);
    },
  });
}
