import type { FastifyInstance } from 'fastify';
import { checkCaps } from '../../domain/caps-check.js';
import { assertNoProblems } from '../../domain/errors.js';
import { ErrorBody, IfMatchHeaders } from '../../domain/schemas/common.js';
import { OfferAccess, OfferAccessBody, OfferAccessParams } from '../../domain/schemas/offer-access.js';
import type { Cap } from '../../domain/schemas/offer.js';
import type { AccessState } from '../../domain/records.js';
import { ADMIN_ONLY, requireAdmin } from '../auth.js';
import type { ApiDeps } from './deps.js';
import { expectedVersion, found, principalOf, staleVersion } from './helpers.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };

/** A partner's access to an offer (approval state and partner caps), set and read by pair. */
export function registerOfferAccess(app: FastifyInstance, deps: ApiDeps): void {
  const { store } = deps;
  const loadPair = async (offerId: number, partnerId: number) => {
    found(await store.offers.get(offerId), 'offer');
    found(await store.partners.get(partnerId), 'partner');
  };

  app.put('/offers/:id/access/:partner_id', {
    schema: {
      tags: ['offers'],
      summary: "Set a partner's access state (and partner caps) on an offer",
      params: OfferAccessParams,
      headers: IfMatchHeaders,
      body: OfferAccessBody,
      response: { 200: OfferAccess, ...errors, 409: ErrorBody },
    },
    config: ADMIN_ONLY,
    handler: async (request) => {
      requireAdmin(principalOf(request));
      const { id, partner_id: partnerId } = request.params as { id: number; partner_id: number };
      const body = request.body as { state: AccessState; caps?: Cap[] };
      await loadPair(id, partnerId);
      const version = expectedVersion(request);
      const record = await store.transaction(async (tx) => {
        const previous = await tx.offerAccess.get(id, partnerId);
        // A pair never set has no version yet: 0, as If-Match would name it.
        if (version !== undefined && version !== (previous?.version ?? 0)) throw staleVersion('access record');
        assertNoProblems(checkCaps(body.caps, 'caps', previous?.caps));
        const caps = (body.caps ?? previous?.caps ?? []).map((cap) => ({ ...cap, mode: cap.mode ?? 'hard' }));
        return tx.offerAccess.put({ offer_id: id, partner_id: partnerId, state: body.state, caps });
      });
      await deps.onChange();
      return record;
    },
  });

  app.get('/offers/:id/access/:partner_id', {
    schema: {
      tags: ['offers'],
      summary: "Read a partner's access state on an offer",
      params: OfferAccessParams,
      response: { 200: OfferAccess, ...errors },
    },
    config: ADMIN_ONLY,
    handler: async (request) => {
      requireAdmin(principalOf(request));
      const { id, partner_id: partnerId } = request.params as { id: number; partner_id: number };
      await loadPair(id, partnerId);
      return found(await store.offerAccess.get(id, partnerId), 'access record');
    },
  });
}
