import { Ajv, type Options, type ValidateFunction } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';
import type { ErrorObject } from 'ajv';
import { exactDecimal } from '../domain/decimal.js';
import { FORMAT_HINTS, PATTERN_HINTS, customFormats } from '../domain/formats.js';
import type { ErrorDetail } from '../domain/errors.js';

/** Every string format our schemas use, for the Ajv instances that validate requests. */
export const ajvFormats: Record<string, { type: 'string'; validate: (value: string) => boolean }> = {
  ...Object.fromEntries(Object.entries(customFormats).map(([name, validate]) => [name, { type: 'string' as const, validate }])),
};

/**
 * The same formats for serialising responses, where a format only helps pick a union's branch, so
 * every string passes. A response shows what is stored, and a database written by an older version
 * may hold a value a format refuses now (a URL with {sub1} in its host): checked there, it answered
 * 500 and made the resource, and every list holding it, unreadable.
 */
export const serializerFormats: typeof ajvFormats = Object.fromEntries(
  Object.keys(ajvFormats).map((name) => [name, { type: 'string' as const, validate: () => true }]),
);

/**
 * Whether `value` is an exact multiple of `step` as the decimals they were written as. A float
 * quotient is not: 7955.9 / 0.0001 is 79558999.99999999, so Ajv's own check (even with a
 * tolerance) refused about one money value in four above a few thousand units.
 */
export function isDecimalMultiple(value: number, step: number): boolean {
  if (!Number.isFinite(value) || !Number.isFinite(step) || step <= 0) return false;
  const a = exactDecimal(value);
  const b = exactDecimal(step);
  const places = Math.max(a.places, b.places);
  const scaledStep = b.digits * 10n ** BigInt(places - b.places);
  return scaledStep !== 0n && (a.digits * 10n ** BigInt(places - a.places)) % scaledStep === 0n;
}

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    strict: false,
    removeAdditional: false,
    ...options,
  });
  for (const [name, format] of Object.entries(ajvFormats)) ajv.addFormat(name, format);
  // Money is a multiple of 0.0001, judged on its decimal text, never on a float quotient.
  ajv.removeKeyword('multipleOf');
  ajv.addKeyword({
    keyword: 'multipleOf',
    type: 'number',
    schemaType: 'number',
    errors: true,
    validate: function multipleOf(step: number, value: number): boolean {
      const valid = isDecimalMultiple(value, step);
      (multipleOf as { errors?: Partial<ErrorObject>[] }).errors = valid ? [] : [{ keyword: 'multipleOf', message: `must be multiple of ${step}`, params: { multipleOf: step } }];
      return valid;
    },
  });
  return ajv;
}

// Bodies are JSON and must have the right types as sent; query strings and path parameters are
// text by nature, so they are converted and get their defaults.
const bodyAjv = makeAjv({ coerceTypes: false, useDefaults: false });
const textAjv = makeAjv({ coerceTypes: 'array', useDefaults: true });

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? bodyAjv : textAjv;
  return ajv.compile(schema as object) as ValidateFunction;
};

/**
 * A validator for input a handler assembles itself (e.g. query and body merged), checked exactly
 * as a JSON body is: no coercion, no defaults.
 */
export function compileValidator(schema: object): ValidateFunction {
  return bodyAjv.compile(schema);
}

/** An error that only says a union failed as a whole (`must match a schema in anyOf`, or the `must be null` of a nullable field). */
const isUnionNoise = (error: Partial<ErrorObject>): boolean =>
  error.keyword === 'anyOf' || error.keyword === 'oneOf' || (error.keyword === 'type' && (error.params as { type?: unknown } | undefined)?.type === 'null');

/**
 * Ajv's errors without the union noise that a more precise error at the same place or below
 * explains: `kpi: must be null` beside `kpi.run_frequency_hours: must be one of …` told the user
 * to drop the settings they were correcting.
 */
function withoutUnionNoise(errors: readonly Partial<ErrorObject>[]): Partial<ErrorObject>[] {
  const precise = errors.filter((error) => !isUnionNoise(error)).map((error) => error.instancePath ?? '');
  const explained = (path: string): boolean => precise.some((p) => p === path || p.startsWith(`${path}/`));
  // A value of the wrong type is checked no further, so a type error beside errors another schema
  // found in the same value (below it, or at it but not of type) is that of a union's branch not
  // taken: `day_parting: must be array` beside `day_parting.windows[0].start`, or beside the
  // object's `must have required property 'windows'` or `timezone: must be string`.
  const schemaOf = (error: Partial<ErrorObject>): string => (error.schemaPath ?? '').replace(/\/type$/, '');
  const branchNotTaken = (error: Partial<ErrorObject>): boolean => {
    if (error.keyword !== 'type' || isUnionNoise(error)) return false;
    const path = error.instancePath ?? '';
    const schema = schemaOf(error);
    return errors.some((other) => {
      if (other === error || isUnionNoise(other)) return false;
      const at = other.instancePath ?? '';
      const within = at.startsWith(`${path}/`) || (at === path && other.keyword !== 'type');
      return within && other.schemaPath !== undefined && other.schemaPath !== `${schema}` && !other.schemaPath.startsWith(`${schema}/`);
    });
  };
  return errors.filter((error) => (!isUnionNoise(error) || !explained(error.instancePath ?? '')) && !branchNotTaken(error));
}

/** Turns Ajv's errors into `{path, message}` pairs with paths like `entries[0].offer_id`. */
export function toErrorDetails(errors: readonly Partial<ErrorObject>[], prefix: string): ErrorDetail[] {
  const details = withoutUnionNoise(errors).map((error) => {
    const segments = (error.instancePath ?? '')
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const params = (error.params ?? {}) as Record<string, unknown>;
    if (typeof params.missingProperty === 'string') segments.push(params.missingProperty);
    if (typeof params.additionalProperty === 'string') segments.push(params.additionalProperty);
    const path = segments.reduce((acc, s) => (/^\d+$/.test(s) ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), prefix);
    let message = error.message ?? 'is not valid';
    if (typeof params.additionalProperty === 'string') message = 'is not a known field';
    if (Array.isArray(params.allowedValues)) message = `must be one of: ${params.allowedValues.join(', ')}`;
    if (error.keyword === 'format' && typeof params.format === 'string') message = FORMAT_HINTS[params.format] ?? message;
    if (error.keyword === 'pattern' && typeof params.pattern === 'string') message = PATTERN_HINTS[params.pattern] ?? message;
    return { path: path || '(body)', message };
  });
  const unique = new Map(details.map((d) => [`${d.path}\u0000${d.message}`, d]));
  return [...unique.values()].slice(0, 50);
}
