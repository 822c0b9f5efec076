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

/** Calls `fix` on every object of the document, parents before their children. */
function everyObject(document: unknown, fix: (node: Record<string, unknown>) => void): void {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    const object = node as Record<string, unknown>;
    fix(object);
    Object.values(object).forEach(visit);
  };
  visit(document);
}

/**
 * Money is "a multiple of 0.0001", which the server judges on the number's decimal text. JSON
 * Schema validators judge `multipleOf` by floating-point division, so by the document 19.99 or 0.3
 * (19.99 / 0.0001 = 199899.99999999997) were invalid: a generated client refused to send such a
 * payout, and one checking answers refused the server's own offers. The document states the step
 * in words (and as `x-decimal-places`) instead; the server still refuses a fifth decimal with 400.
 */
export function describeDecimalSteps(document: unknown): void {
  everyObject(document, (schema) => {
    const step = schema.multipleOf;
    if (typeof step === 'number' && !Number.isInteger(step)) {
      const places = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
      delete schema.multipleOf;
      schema['x-decimal-places'] = places;
      const note = `At most ${places} decimal places.`;
      schema.description = typeof schema.description === 'string' ? `${schema.description} ${note}` : note;
    }
  });
}

/**
 * JSON Schema's `examples` list is not an OpenAPI 3.0 Schema Object field (3.0 has one `example`).
 * The swagger plugin rewrites it, but not inside `anyOf` branches, so a union of objects (a
 * ruleset's day_parting) left lists that OpenAPI validators and client generators reject. Any left
 * become `example`; the `examples` maps of parameters and media types are objects and stay.
 */
export function examplesAsExample(document: unknown): void {
  everyObject(document, (schema) => {
    const { examples } = schema;
    if (Array.isArray(examples)) {
      if (schema.example === undefined && examples.length > 0) schema.example = examples[0];
      delete schema.examples;
    }
  });
}
