import type { FastifyInstance } from 'fastify';
import { AppError } from '../../domain/errors.js';
import { Click, ClickParams } from '../../domain/schemas/click.js';
import { ErrorBody } from '../../domain/schemas/common.js';
import type { ApiDeps } from './deps.js';
import { found, principalOf } from './helpers.js';

/** One stored click with its routing trace; a partner key reads only its own clicks. */
export function registerClicks(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/clicks/:transaction_id', {
    schema: {
      tags: ['clicks'],
      summary: 'Read one click with the entries it skipped and why',
      params: ClickParams,
      response: { 200: Click, 400: ErrorBody, 401: ErrorBody, 404: ErrorBody },
    },
    handler: async (request) => {
      const principal = principalOf(request);
      const click = found(await deps.store.clicks.get((request.params as { transaction_id: string }).transaction_id), 'click');
      // Another partner's click answers as missing, so ids cannot be probed.
      if (principal.role === 'partner') {
        if (click.partner_id !== principal.partnerId) throw AppError.notFound('click');
        // The visitor id is the browser's first click on the offer, which may have come through
        // another partner; and partner keys never see who the advertiser is.
        const { visitor_id: _visitor, advertiser_id: _advertiser, ...own } = click;
        return own;
      }
      return click;
    },
  });
}
