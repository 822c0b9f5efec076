import type { FastifyInstance } from 'fastify';
import { AppError } from '../../domain/errors.js';
import type { AdvertiserRecord, Body } from '../../domain/records.js';
import { Advertiser, AdvertiserFields } from '../../domain/schemas/advertiser.js';
import { registerCrud } from './crud.js';
import type { ApiDeps } from './deps.js';

export function registerAdvertisers(app: FastifyInstance, deps: ApiDeps): void {
  registerCrud<AdvertiserRecord, Body<AdvertiserRecord>>(app, deps, {
    noun: 'advertiser',
    tag: 'advertisers',
    path: '/advertisers',
    fields: AdvertiserFields,
    required: ['name'],
    response: Advertiser,
    filters: { status: AdvertiserFields.properties.status },
    repo: (tx) => tx.advertisers,
    prepare: async ({ input }) => input as Body<AdvertiserRecord>,
    async remove(tx, advertiser) {
      if ((await tx.references.countOffersOfAdvertiser(advertiser.id)) > 0) {
        throw new AppError('conflict', 'this advertiser still has offers; delete or move them first');
      }
      await tx.advertisers.remove(advertiser.id);
    },
  });
}
