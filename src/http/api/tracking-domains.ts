import type { FastifyInstance } from 'fastify';
import { AppError } from '../../domain/errors.js';
import type { Body, TrackingDomainRecord } from '../../domain/records.js';
import { TrackingDomain, TrackingDomainFields } from '../../domain/schemas/tracking-domain.js';
import type { StoreTx } from '../../ports/store.js';
import { registerCrud } from './crud.js';
import type { ApiDeps } from './deps.js';
import { bodyOf } from './helpers.js';

type DomainBody = Body<TrackingDomainRecord>;

/** Only one domain is the default: making one the default clears the flag on the others. */
async function clearOtherDefaults(tx: StoreTx, keepId: number | undefined): Promise<void> {
  for (const domain of await tx.trackingDomains.all()) {
    if (domain.is_default && domain.id !== keepId) {
      await tx.trackingDomains.update(domain.id, { ...bodyOf(domain), is_default: false });
    }
  }
}

export function registerTrackingDomains(app: FastifyInstance, deps: ApiDeps): void {
  registerCrud<TrackingDomainRecord, DomainBody>(app, deps, {
    noun: 'tracking domain',
    tag: 'tracking domains',
    path: '/tracking-domains',
    fields: TrackingDomainFields,
    required: ['host'],
    response: TrackingDomain,
    repo: (tx) => tx.trackingDomains,
    async prepare({ tx, input, existing }) {
      const body = input as DomainBody;
      const clash = (await tx.trackingDomains.list({ page: 1, pageSize: 1, where: { host: body.host } })).rows[0];
      if (clash && clash.id !== existing?.id) throw new AppError('conflict', `tracking domain ${body.host} already exists`);
      if (body.is_default) await clearOtherDefaults(tx, existing?.id);
      return body;
    },
    async remove(tx, domain) {
      const links = await tx.references.smartLinksOnTrackingDomain(domain.id);
      if (links.length > 0) {
        throw new AppError('conflict', `smart links ${links.join(', ')} use this tracking domain; move them first`);
      }
      await tx.trackingDomains.remove(domain.id);
    },
  });
}
