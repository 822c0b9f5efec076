import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../domain/errors.js';
import type { ApiKeyRecord, Body, PartnerRecord } from '../../domain/records.js';
import type { StoreTx } from '../../ports/store.js';
import { ErrorBody, Id, IdParams, Page, PageQuery } from '../../domain/schemas/common.js';
import { ApiKey, ApiKeyCreated, ApiKeyQuery, Partner, PartnerFields } from '../../domain/schemas/partner.js';
import { ADMIN_ONLY, mintKey, requireAdmin } from '../auth.js';
import { registerCrud } from './crud.js';
import type { ApiDeps } from './deps.js';
import { found, pageOf, principalOf } from './helpers.js';

const ApiKeyParams = Type.Object({ id: Id, key_id: Id });

const revocationSchema = (summary: string, params: TSchema) => ({
  tags: ['partners'],
  summary,
  params,
  response: { 204: Type.Null(), 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
});

/** Removes key `keyId` if `mayRevoke` says this route may (404 otherwise), in one transaction. */
async function revokeKey(deps: ApiDeps, keyId: number, mayRevoke: (tx: StoreTx, key: ApiKeyRecord | undefined) => Promise<boolean>): Promise<void> {
  await deps.store.transaction(async (tx) => {
    if (!(await mayRevoke(tx, await tx.apiKeys.get(keyId)))) throw AppError.notFound('API key');
    await tx.apiKeys.remove(keyId);
  });
}

export function registerPartners(app: FastifyInstance, deps: ApiDeps): void {
  registerCrud<PartnerRecord, Body<PartnerRecord>>(app, deps, {
    noun: 'partner',
    tag: 'partners',
    path: '/partners',
    fields: PartnerFields,
    required: ['name'],
    response: Partner,
    filters: { status: PartnerFields.properties.status },
    repo: (tx) => tx.partners,
    prepare: async ({ input }) => input as Body<PartnerRecord>,
    partnerScope: { item: (partner, partnerId) => partner.id === partnerId },
    async remove(tx, partner) {
      if ((await tx.references.countTrackingLinksOfPartner(partner.id)) > 0) {
        throw new AppError('conflict', 'this partner has tracking links and traffic; suspend it instead');
      }
      // Taking the id out of a URL's partner_ids could leave it open to everyone (an empty list), and
      // leaving it in made every later edit of the URL fail validation: the admin decides first.
      const restricted = (await tx.offerUrls.all()).filter((url) => url.status !== 'deleted' && url.partner_ids?.includes(partner.id));
      if (restricted.length > 0) {
        throw new AppError('conflict', `offer URL(s) ${restricted.map((url) => url.id).join(', ')} are restricted to this partner; change their partner_ids first`);
      }
      await tx.apiKeys.removeForPartner(partner.id);
      await tx.offerAccess.removeForPartner(partner.id);
      await tx.partners.remove(partner.id);
    },
  });

  app.post('/partners/:id/api-keys', {
    schema: {
      tags: ['partners'],
      summary: 'Mint an API key for a partner (shown only once)',
      params: IdParams,
      response: { 201: ApiKeyCreated, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
    },
    config: ADMIN_ONLY,
    handler: async (request, reply) => {
      requireAdmin(principalOf(request));
      const { id } = request.params as { id: number };
      found(await deps.store.partners.get(id), 'partner');
      const minted = await mintKey(deps.store, 'partner', id);
      return reply.code(201).send({ ...minted, role: 'partner', partner_id: id });
    },
  });

  app.delete('/partners/:id/api-keys/:key_id', {
    schema: revocationSchema("Revoke one of a partner's API keys (its id is the number in sy_<id>_…)", ApiKeyParams),
    config: ADMIN_ONLY,
    handler: async (request, reply) => {
      requireAdmin(principalOf(request));
      const { id, key_id: keyId } = request.params as { id: number; key_id: number };
      await revokeKey(deps, keyId, async (tx, key) => {
        found(await tx.partners.get(id), 'partner');
        return key?.partner_id === id;
      });
      return reply.code(204).send();
    },
  });

  // Without a list, a key whose id was not noted when it was minted could not be found to revoke.
  app.get('/api-keys', {
    schema: {
      tags: ['partners'],
      summary: "List stored API keys, oldest first (ids and roles, never secrets); partner_id lists one partner's",
      querystring: Type.Composite([PageQuery, ApiKeyQuery], { additionalProperties: false }),
      response: { 200: Page(ApiKey), 401: ErrorBody, 403: ErrorBody },
    },
    config: ADMIN_ONLY,
    handler: async (request) => {
      requireAdmin(principalOf(request));
      const { page, page_size: pageSize, partner_id: partnerId } = request.query as { page: number; page_size: number; partner_id?: number };
      const result = await deps.store.apiKeys.list({ partnerId, page, pageSize });
      const rows = result.rows.map(({ id, role, partner_id, created_at }) => ({ id, role, partner_id, created_at }));
      return pageOf({ rows, total: result.total }, page, pageSize);
    },
  });

  // The admin key generated on first start (or by --demo) had no way to be revoked: a leaked one
  // stayed valid for good, even after SWITCHYARD_ADMIN_KEY was set. Any stored key can be revoked
  // here; with no stored admin key left, the next start without SWITCHYARD_ADMIN_KEY generates and
  // prints a new one, as on first start.
  app.delete('/api-keys/:id', {
    schema: revocationSchema('Revoke any stored API key, an admin key included (its id is the number in sy_<id>_…)', IdParams),
    config: ADMIN_ONLY,
    handler: async (request, reply) => {
      requireAdmin(principalOf(request));
      await revokeKey(deps, (request.params as { id: number }).id, async (_tx, key) => key !== undefined);
      return reply.code(204).send();
    },
  });
}
