import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { publicUrlFor } from '../../config/index.js';
import { AppError } from '../../domain/errors.js';
import type { SmartLinkRecord, TrackingLinkRecord } from '../../domain/records.js';
import { ErrorBody, IdParams, Page, PageQuery } from '../../domain/schemas/common.js';
import { TrackingLink, TrackingLinkCreate } from '../../domain/schemas/tracking-link.js';
import type { Store } from '../../ports/store.js';
import type { Principal } from '../auth.js';
import type { ApiDeps } from './deps.js';
import { found, pageOf, principalOf } from './helpers.js';

const SUBS = ['sub1', 'sub2', 'sub3', 'sub4', 'sub5'] as const;

/** 18 random bytes: 144 bits, 24 URL-safe characters. */
export function newToken(): string {
  return randomBytes(18).toString('base64url');
}

async function baseUrl(store: Store, link: SmartLinkRecord, publicUrl: string): Promise<string> {
  const domain = link.tracking_domain_id === null ? undefined : await store.trackingDomains.get(link.tracking_domain_id);
  return domain ? `${domain.scheme}://${domain.host}` : publicUrl;
}

/** Whether the partner holds a tracking link on the smart link (one an admin may have minted for it). */
export async function partnerRunsLink(store: Store, smartLinkId: number, partnerId: number): Promise<boolean> {
  return (await store.trackingLinks.list({ smartLinkId, partnerId, page: 1, pageSize: 1 })).total > 0;
}

/**
 * A smart link a caller may work with: partners mint only on live links made visible to them, and
 * read (`reading`) also on links they hold a tracking link on, which an admin may have minted for
 * them on a link not shown to partners: SPEC §3 lets a partner read its own tracking links. A link
 * a partner may not reach answers as missing, as reports and clicks do.
 */
async function reachableLink(store: Store, principal: Principal, id: number, reading = false): Promise<SmartLinkRecord> {
  const link = found(await store.smartLinks.get(id), 'smart link');
  if (link.status === 'deleted') throw AppError.notFound('smart link');
  if (principal.role === 'partner' && !link.visible_to_partners && !(reading && (await partnerRunsLink(store, id, principal.partnerId)))) {
    throw AppError.notFound('smart link');
  }
  return link;
}

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };

/**
 * Tracking links a partner key may mint. Links cannot be deleted and each is kept in memory for the
 * click path, so a partner key minting in a loop (about 2,000 a second within the rate limit) grew
 * the process by about 1.4 GB a day. Networks mint more for a partner with an admin key.
 */
export const PARTNER_MINTED_LINKS_MAX = 10_000;

export function registerTrackingLinks(app: FastifyInstance, deps: ApiDeps): void {
  const { store, config, trackingLinks } = deps;
  const present = (record: TrackingLinkRecord, base: string) => ({ ...record, url: `${base}/sl/${record.token}` });

  app.post('/smart-links/:id/tracking-links', {
    schema: {
      tags: ['smart links'],
      summary: "Mint a partner's tracking link for a smart link",
      params: IdParams,
      body: TrackingLinkCreate,
      response: { 201: TrackingLink, ...errors, 409: ErrorBody },
    },
    handler: async (request, reply) => {
      const principal = principalOf(request);
      const body = request.body as { partner_id?: number } & Partial<Record<(typeof SUBS)[number], string>>;
      const link = await reachableLink(store, principal, (request.params as { id: number }).id);
      let partnerId = body.partner_id;
      if (principal.role === 'partner') {
        if (partnerId !== undefined && partnerId !== principal.partnerId) {
          throw new AppError('forbidden', 'a partner key can mint tracking links only for its own partner');
        }
        partnerId = principal.partnerId;
      }
      if (partnerId === undefined) throw AppError.invalid([{ path: 'partner_id', message: 'is required' }]);
      if (!(await store.partners.get(partnerId))) {
        throw AppError.invalid([{ path: 'partner_id', message: `partner ${partnerId} does not exist` }]);
      }
      if (principal.role === 'partner' && (await store.references.countTrackingLinksOfPartner(partnerId)) >= PARTNER_MINTED_LINKS_MAX) {
        throw new AppError('conflict', `a partner may hold at most ${PARTNER_MINTED_LINKS_MAX} tracking links: reuse one (sub1–sub5 can be set on its URL), or ask the network to mint more`);
      }
      const subs = Object.fromEntries(SUBS.map((name) => [name, body[name] ?? null])) as Record<(typeof SUBS)[number], string | null>;
      const record = await store.trackingLinks.insert({ token: newToken(), smart_link_id: link.id, partner_id: partnerId, ...subs });
      trackingLinks.add(record);
      return reply.code(201).send(present(record, await baseUrl(store, link, publicUrlFor(config, request.server.server.address()))));
    },
  });

  app.get('/smart-links/:id/tracking-links', {
    schema: {
      tags: ['smart links'],
      summary: 'List tracking links of a smart link (a partner key sees its own)',
      params: IdParams,
      querystring: PageQuery,
      response: { 200: Page(TrackingLink), ...errors },
    },
    handler: async (request) => {
      const principal = principalOf(request);
      const { page, page_size: pageSize } = request.query as { page: number; page_size: number };
      const link = await reachableLink(store, principal, (request.params as { id: number }).id, true);
      const partnerId = principal.role === 'partner' ? principal.partnerId : undefined;
      const result = await store.trackingLinks.list({ smartLinkId: link.id, partnerId, page, pageSize });
      const base = await baseUrl(store, link, publicUrlFor(config, request.server.server.address()));
      return pageOf({ rows: result.rows.map((r) => present(r, base)), total: result.total }, page, pageSize);
    },
  });
}

