import type { FastifyInstance } from 'fastify';
import { AppError } from '../../domain/errors.js';
import { ErrorBody, IdParams, Page } from '../../domain/schemas/common.js';
import { PartnerPostback, PartnerPostbackQuery } from '../../domain/schemas/partner-postback.js';
import type { PostbackState } from '../../ports/outbox.js';
import { ADMIN_ONLY, requireAdmin } from '../auth.js';
import type { ApiDeps } from './deps.js';
import { found, pageOf, principalOf } from './helpers.js';

const tags = ['partner postbacks'];

/**
 * The outbox as operators need it (SPEC §10.4): which partner postbacks are waiting, delivered or
 * failed, and a failed one sent again once the partner's endpoint works. Without it a partner outage
 * longer than the retries (about 3 h) lost those postbacks for good. Admin only.
 */
export function registerPartnerPostbacks(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/partner-postbacks', {
    schema: {
      tags,
      summary: 'List partner postbacks, newest first; filter by state (e.g. failed), partner or conversion',
      querystring: PartnerPostbackQuery,
      response: { 200: Page(PartnerPostback), 400: ErrorBody },
    },
    config: ADMIN_ONLY,
    handler: async (request) => {
      requireAdmin(principalOf(request));
      const query = request.query as { page: number; page_size: number; state?: PostbackState; partner_id?: number; conversion_id?: number };
      const result = await deps.store.partnerPostbacks.list({
        state: query.state, partnerId: query.partner_id, conversionId: query.conversion_id, page: query.page, pageSize: query.page_size,
      });
      return pageOf(result, query.page, query.page_size);
    },
  });

  app.post('/partner-postbacks/:id/retry', {
    schema: {
      tags,
      summary: 'Send a failed partner postback again: due now, with a fresh set of attempts (attempt_base moves up to attempts)',
      params: IdParams,
      response: { 200: PartnerPostback, 404: ErrorBody, 409: ErrorBody },
    },
    config: ADMIN_ONLY,
    handler: async (request) => {
      requireAdmin(principalOf(request));
      const { id } = request.params as { id: number };
      const { postback, retried } = found(await deps.store.partnerPostbacks.retry(id, new Date(deps.now())), 'partner postback');
      if (!retried) throw new AppError('conflict', `partner postback ${id} is ${postback.state}; only a failed one is sent again`);
      return postback;
    },
  });
}
