import type { FastifyInstance } from 'fastify';
import { AppError, assertNoProblems, type ErrorDetail } from '../../domain/errors.js';
import type { Body, OfferUrlRecord } from '../../domain/records.js';
import { OfferUrl, OfferUrlFields } from '../../domain/schemas/offer-url.js';
import type { StoreTx } from '../../ports/store.js';
import { registerCrud } from './crud.js';
import type { ApiDeps } from './deps.js';
import { refuseIfFailTrafficTarget } from './fail-traffic-refs.js';
import { bodyOf } from './helpers.js';

type OfferUrlBody = Body<OfferUrlRecord>;

async function refuseIfInUse(tx: StoreTx, offerUrlId: number): Promise<void> {
  const links = await tx.references.smartLinksUsingOfferUrl(offerUrlId);
  if (links.length > 0) {
    throw new AppError('conflict', `smart links ${links.join(', ')} use this offer URL; remove it from them first`);
  }
  await refuseIfFailTrafficTarget(tx, [{ type: 'offer_url', id: offerUrlId }], 'offer URL');
}

export function registerOfferUrls(app: FastifyInstance, deps: ApiDeps): void {
  registerCrud<OfferUrlRecord, OfferUrlBody>(app, deps, {
    noun: 'offer URL',
    tag: 'offers',
    path: '/offers/:id/urls',
    itemParam: 'url_id',
    parent: { noun: 'offer', column: 'offer_id', exists: async (tx, id) => (await tx.offers.get(id)) !== undefined },
    fields: OfferUrlFields,
    required: ['name', 'destination_url'],
    response: OfferUrl,
    filters: { status: OfferUrlFields.properties.status },
    hideStatuses: ['deleted'],
    repo: (tx) => tx.offerUrls,
    async prepare({ tx, input, existing, parentId }) {
      const body = { ...input, offer_id: parentId } as OfferUrlBody;
      const problems: ErrorDetail[] = [];
      for (const [i, partnerId] of (body.partner_ids ?? []).entries()) {
        if (!(await tx.partners.get(partnerId))) {
          problems.push({ path: `partner_ids[${i}]`, message: `partner ${partnerId} does not exist` });
        }
      }
      assertNoProblems(problems);
      if (existing && body.status === 'deleted' && existing.status !== 'deleted') await refuseIfInUse(tx, existing.id);
      return body;
    },
    async remove(tx, offerUrl) {
      await refuseIfInUse(tx, offerUrl.id);
      await tx.offerUrls.update(offerUrl.id, { ...bodyOf(offerUrl), status: 'deleted' });
    },
  });
}
