import type { FastifyInstance } from 'fastify';
import type { ConversionRecord } from '../../domain/conversion.js';
import { microsToNumber } from '../../domain/money.js';
import { ErrorBody, Page } from '../../domain/schemas/common.js';
import { Conversion, ConversionListQuery } from '../../domain/schemas/conversion.js';
import type { ConversionQuery } from '../../ports/store.js';
import type { Principal } from '../auth.js';
import type { ApiDeps } from './deps.js';
import { pageOf, principalOf } from './helpers.js';

/** Money as exact decimal numbers; partner keys never see what the network earns, nor who the advertiser is. */
function present(record: ConversionRecord, principal: Principal): Conversion {
  const { amount_micros: amount, payout_micros: payout, revenue_micros: revenue, advertiser_id: advertiserId, ...rest } = record;
  return {
    ...rest,
    amount: amount === null ? null : microsToNumber(amount),
    payout: microsToNumber(payout),
    ...(principal.role === 'admin' ? { advertiser_id: advertiserId, revenue: microsToNumber(revenue) } : {}),
  };
}

const isoOrUndefined = (time: string | undefined) => (time === undefined ? undefined : new Date(time).toISOString());

/** `GET /conversions` (SPEC §3, §10.3): filterable and paginated; a partner key lists only its own. */
export function registerConversions(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/conversions', {
    schema: {
      tags: ['conversions'],
      summary: 'List conversions, newest first, with the click attribution of each',
      querystring: ConversionListQuery,
      response: { 200: Page(Conversion), 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
    },
    handler: async (request) => {
      const principal = principalOf(request);
      const query = request.query as ConversionListQuery & { page: number; page_size: number };
      const filters: ConversionQuery = {
        page: query.page,
        pageSize: query.page_size,
        offerId: query.offer_id,
        partnerId: query.partner_id,
        smartLinkId: query.smart_link_id,
        status: query.status,
        // Stored times are UTC ISO text; a bound with an offset is compared in that same form.
        from: isoOrUndefined(query.from),
        to: isoOrUndefined(query.to),
      };
      if (principal.role === 'partner') {
        // Asking for another partner's conversions finds none, just as if there were none.
        if (filters.partnerId !== undefined && filters.partnerId !== principal.partnerId) return pageOf({ rows: [], total: 0 }, query.page, query.page_size);
        filters.partnerId = principal.partnerId;
      }
      const result = await deps.store.conversions.list(filters);
      return pageOf({ rows: result.rows.map((r) => present(r, principal)), total: result.total }, query.page, query.page_size);
    },
  });
}
