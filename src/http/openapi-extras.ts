import type { RouteOptions } from 'fastify';
import { ErrorBody } from '../domain/schemas/common.js';
import { DIMENSIONS } from '../reporting/dimensions.js';

/**
 * The answers every management route can give whatever it does, added to its documented responses
 * where missing, so the OpenAPI document lists what clients actually get: 401 without a valid key,
 * 403 for a key that may not, 429 past the rate limit, for routes that read input 400, 413 for a
 * body too large (with a body schema, and on every write: a body-less POST or DELETE still reads
 * whatever body is sent, up to BODY_LIMIT_BYTES), and for writes 503 while the database's write
 * lock is held elsewhere or its disk is full.
 */
export function documentCommonAnswers(route: RouteOptions): void {
  const schema = route.schema as { response?: Record<string, unknown>; body?: unknown; params?: unknown; querystring?: unknown } | undefined;
  if (schema?.response === undefined) return;
  const codes = [401, 403, 429];
  if (schema.body !== undefined || schema.params !== undefined || schema.querystring !== undefined) codes.push(400);
  const methods = [route.method].flat();
  const writes = methods.some((m) => m !== 'GET' && m !== 'HEAD');
  if (schema.body !== undefined || writes) codes.push(413);
  if (writes) codes.push(503);
  for (const code of codes) schema.response[code] ??= ErrorBody;
}

export type OpenApiDocument = { paths?: Record<string, Record<string, { parameters?: unknown[] }>> };

/**
 * The report filters are query parameters named `filter[<dimension>]`, which the request schema
 * allows by pattern: JSON Schema's `patternProperties` has no OpenAPI parameter form, so the
 * document gets them as the deepObject parameter `filter` that generated clients can send.
 */
export function addReportFilters(document: OpenApiDocument): void {
  const reports = document.paths?.['/api/v1/reports']?.get;
  if (reports === undefined) return;
  const filterable = Object.entries(DIMENSIONS).filter(([, d]) => d.column !== 'bucket').map(([name]) => name);
  reports.parameters = [
    ...(reports.parameters ?? []),
    {
      name: 'filter',
      in: 'query',
      style: 'deepObject',
      explode: true,
      description: 'Narrow the report to one value per dimension, e.g. `filter[country]=US&filter[offer]=12`.',
      schema: { type: 'object', properties: Object.fromEntries(filterable.map((name) => [name, { type: 'string', maxLength: 512 }])), additionalProperties: false },
    },
  ];
}
