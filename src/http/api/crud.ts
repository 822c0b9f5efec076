import { Type, type TObject, type TProperties, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../domain/errors.js';
import type { Meta } from '../../domain/records.js';
import { ErrorBody, Id, IfMatchHeaders, Page, PageQuery, createBody, patchBody, withoutDefaults } from '../../domain/schemas/common.js';
import type { ListQuery, ResourceRepo, StoreTx } from '../../ports/store.js';
import { ADMIN_ONLY, requireAdmin } from '../auth.js';
import type { ApiDeps } from './deps.js';
import { bodyOf, expectedVersion, found, pageOf, principalOf, staleVersion, unwrapUpdate } from './helpers.js';

export interface PrepareContext<R> {
  tx: StoreTx;
  /** Create: the body with defaults applied. Update: the stored fields with the patch laid over them. */
  input: Record<string, unknown>;
  existing: R | undefined;
  parentId: number | undefined;
}

/** One REST resource: its schemas, its repository and the rules that are particular to it. */
export interface CrudResource<R extends Meta, B> {
  noun: string;
  tag: string;
  /** Collection path, e.g. `/advertisers` or `/offers/:id/urls`. */
  path: string;
  /** Name of the item's path parameter (`id` unless the collection already uses it). */
  itemParam?: string;
  /** For nested collections: the parent's path parameter and the column that links to it. */
  parent?: { noun: string; column: string; exists: (tx: StoreTx, id: number) => Promise<boolean> };
  fields: TObject;
  required: string[];
  response: TSchema;
  /** Equality filters the list endpoint accepts, each an indexed column. */
  filters?: TProperties;
  /** Statuses the list hides unless asked for by a `status` filter. */
  hideStatuses?: string[];
  repo: (tx: StoreTx) => ResourceRepo<R, B>;
  /** Validates cross-field and referential rules and returns what to store; throws AppError. */
  prepare: (ctx: PrepareContext<R>) => Promise<B>;
  present?: (tx: StoreTx, record: R) => Promise<unknown> | unknown;
  /** A page of records presented together (a list), sharing what they look up; defaults to `present` per record. */
  presentMany?: (tx: StoreTx, records: R[]) => Promise<unknown[]>;
  /** Runs in the write's transaction after a create (existing undefined) or an update. */
  afterWrite?: (tx: StoreTx, record: R, existing: R | undefined) => Promise<void>;
  /** Deletion; the default removes the row. Throw a conflict to refuse. */
  remove?: (tx: StoreTx, record: R) => Promise<void>;
  /** Which rows a partner key may see; absent = partners see nothing of this resource. */
  partnerScope?: {
    /** Filters that limit a list to the partner's rows; absent = partners cannot list. */
    list?: (partnerId: number) => ListQuery['where'];
    item: (record: R, partnerId: number) => boolean;
    /** What a partner key is shown of a record it may see; absent = what an admin is shown. */
    view?: (record: R) => unknown;
  };
}

const errorResponses = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody };

/** Registers create, list, read, update and delete for one resource. */
export function registerCrud<R extends Meta, B>(app: FastifyInstance, deps: ApiDeps, resource: CrudResource<R, B>): void {
  const { store } = deps;
  const itemParam = resource.itemParam ?? 'id';
  const itemPath = `${resource.path}/:${itemParam}`;
  const parentParams: TProperties = resource.parent ? { id: Id } : {};
  const collectionParams = Type.Object(parentParams);
  const itemParams = Type.Object({ ...parentParams, [itemParam]: Id });
  const createSchema = createBody(resource.fields, resource.required);
  const present = (tx: StoreTx, record: R) => (resource.present ? resource.present(tx, record) : record);
  const tags = [resource.tag];

  const parentIdOf = async (tx: StoreTx, params: Record<string, number>): Promise<number | undefined> => {
    if (!resource.parent) return undefined;
    const parentId = params.id as number;
    if (!(await resource.parent.exists(tx, parentId))) throw AppError.notFound(resource.parent.noun);
    return parentId;
  };
  /** The item under its parent (if nested), with that parent's id; 404 for either missing. */
  const loadItem = async (tx: StoreTx, params: Record<string, number>): Promise<{ record: R; parentId: number | undefined }> => {
    const parentId = await parentIdOf(tx, params);
    const record = found(await resource.repo(tx).get(params[itemParam] as number), resource.noun);
    if (resource.parent && (record as Record<string, unknown>)[resource.parent.column] !== parentId) {
      throw AppError.notFound(resource.noun);
    }
    return { record, parentId };
  };

  app.post(resource.path, {
    schema: { tags, summary: `Create a ${resource.noun}`, params: collectionParams, body: createSchema, response: { 201: resource.response, ...errorResponses } },
    config: ADMIN_ONLY,
    handler: async (request, reply) => {
      requireAdmin(principalOf(request));
      const input = Value.Default(createSchema, structuredClone(request.body)) as Record<string, unknown>;
      // Born deleted, a record would skip every check DELETE makes, and be hidden from lists at once.
      if (input.status === 'deleted') throw AppError.invalid([{ path: 'status', message: `a new ${resource.noun} cannot start deleted` }]);
      const presented = await store.transaction(async (tx) => {
        const parentId = await parentIdOf(tx, request.params as Record<string, number>);
        const body = await resource.prepare({ tx, input, existing: undefined, parentId });
        const created = await resource.repo(tx).insert(body);
        await resource.afterWrite?.(tx, created, undefined);
        return present(tx, created);
      });
      await deps.onChange();
      return reply.code(201).send(presented);
    },
  });

  // Filters reuse the create schema's field types, but not its defaults: a list asked for without
  // `status` shows every status but the hidden ones, not only `active` rows.
  const listFilters = Type.Partial(withoutDefaults(Type.Object(resource.filters ?? {})));
  app.get(resource.path, {
    config: { adminOnly: resource.partnerScope?.list === undefined },
    schema: {
      tags,
      summary: `List ${resource.noun}s`,
      params: collectionParams,
      querystring: Type.Composite([PageQuery, listFilters], { additionalProperties: false }),
      response: { 200: Page(resource.response), ...errorResponses },
    },
    handler: async (request) => {
      const principal = principalOf(request);
      const { page, page_size: pageSize, ...filters } = request.query as { page: number; page_size: number } & Record<string, string | number | boolean>;
      let where: ListQuery['where'] = filters;
      if (principal.role === 'partner') {
        if (!resource.partnerScope?.list) throw new AppError('forbidden', `partner keys cannot list ${resource.noun}s`);
        // Hidden statuses stay hidden from partners even when asked for by name, as they are item by item.
        if (typeof filters.status === 'string' && resource.hideStatuses?.includes(filters.status)) return pageOf({ rows: [], total: 0 }, page, pageSize);
        where = { ...filters, ...resource.partnerScope.list(principal.partnerId) };
      }
      const parentId = await parentIdOf(store, request.params as Record<string, number>);
      if (resource.parent && parentId !== undefined) where = { ...where, [resource.parent.column]: parentId };
      const result = await resource.repo(store).list({ page, pageSize, where, hideStatuses: resource.hideStatuses ?? [] });
      const partnerView = principal.role === 'partner' ? resource.partnerScope?.view : undefined;
      let rows: unknown[];
      if (partnerView) rows = result.rows.map((record) => partnerView(record));
      else if (resource.presentMany) rows = await resource.presentMany(store, result.rows);
      else rows = await Promise.all(result.rows.map((record) => present(store, record)));
      return pageOf({ rows, total: result.total }, page, pageSize);
    },
  });

  app.get(itemPath, {
    config: { adminOnly: resource.partnerScope === undefined },
    schema: { tags, summary: `Read a ${resource.noun}`, params: itemParams, response: { 200: resource.response, ...errorResponses } },
    handler: async (request) => {
      const principal = principalOf(request);
      if (principal.role === 'partner' && !resource.partnerScope) throw new AppError('forbidden', `partner keys cannot read ${resource.noun}s`);
      const { record } = await loadItem(store, request.params as Record<string, number>);
      // One a partner may not see answers as missing, so a partner key cannot count the others' ids.
      if (principal.role === 'partner') {
        if (!resource.partnerScope?.item(record, principal.partnerId)) throw AppError.notFound(resource.noun);
        if (resource.partnerScope.view) return resource.partnerScope.view(record);
      }
      return present(store, record);
    },
  });

  app.patch(itemPath, {
    schema: {
      tags,
      summary: `Update a ${resource.noun} (partial; send If-Match: <version> to refuse stale writes)`,
      params: itemParams,
      headers: IfMatchHeaders,
      body: patchBody(resource.fields),
      response: { 200: resource.response, ...errorResponses },
    },
    config: ADMIN_ONLY,
    handler: async (request) => {
      requireAdmin(principalOf(request));
      const version = expectedVersion(request);
      const params = request.params as Record<string, number>;
      const presented = await store.transaction(async (tx) => {
        const { record: existing, parentId } = await loadItem(tx, params);
        if (version !== undefined && version !== existing.version) throw staleVersion(resource.noun);
        // Nested objects are replaced whole; their omitted fields take defaults as on create. Fields
        // the request leaves out keep what is stored: defaulting the stored record instead would
        // reset a write-only field it never holds (an offer's postback secret, cleared by a rename).
        const patch = request.body as Record<string, unknown>;
        const defaulted = Value.Default(createSchema, structuredClone(patch)) as Record<string, unknown>;
        const input = { ...bodyOf(existing), ...Object.fromEntries(Object.keys(patch).map((key) => [key, defaulted[key]])) };
        const body = await resource.prepare({ tx, input, existing, parentId });
        const updated = unwrapUpdate(await resource.repo(tx).update(existing.id, body, existing.version), resource.noun);
        await resource.afterWrite?.(tx, updated, existing);
        return present(tx, updated);
      });
      await deps.onChange();
      return presented;
    },
  });

  app.delete(itemPath, {
    schema: { tags, summary: `Delete a ${resource.noun} (send If-Match: <version> to refuse deleting a changed one)`, params: itemParams, headers: IfMatchHeaders, response: { 204: Type.Null(), ...errorResponses } },
    config: ADMIN_ONLY,
    handler: async (request, reply) => {
      requireAdmin(principalOf(request));
      const version = expectedVersion(request);
      await store.transaction(async (tx) => {
        const { record } = await loadItem(tx, request.params as Record<string, number>);
        if (version !== undefined && version !== record.version) throw staleVersion(resource.noun);
        if (resource.remove) await resource.remove(tx, record);
        else await resource.repo(tx).remove(record.id);
      });
      await deps.onChange();
      return reply.code(204).send();
    },
  });
}
