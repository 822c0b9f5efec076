import { Kind, Type, TypeRegistry, type TSchema, type TObject, type TProperties } from '@sinclair/typebox';

// A closed set of strings rendered as a plain JSON Schema `enum` (clearer in OpenAPI than a union of
// literals); registered so TypeBox's own Value functions understand it too.
TypeRegistry.Set<{ enum: string[] }>('StringEnum', (schema, value) => typeof value === 'string' && schema.enum.includes(value));

export const Id = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
export const Name = Type.String({ minLength: 1, maxLength: 200 });
export const HttpUrl = Type.String({ format: 'http-url', maxLength: 4096 });
export const TimeZone = Type.String({ format: 'iana-timezone', maxLength: 64, examples: ['UTC', 'Europe/Berlin'] });
export const DateTime = Type.String({ format: 'date-time' });

/**
 * Money: a non-negative number with at most 4 decimal places (stored exactly, never as a binary
 * float). At most nine billion units: amounts are kept in integer micros, exact only below 2^53
 * (about 9.007 billion units); a larger payout was accepted here and then refused every postback.
 */
export const Money = Type.Number({ minimum: 0, maximum: 9e9, multipleOf: 0.0001 });

export function Nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}

/** The same schema with a default value, for fields whose type is shared but whose default is not. */
export function withDefault<T extends TSchema>(schema: T, value: unknown): T {
  return { ...schema, default: value };
}

/** The same schema without its default (where a value left out means "any" or "as stored", not the create default). */
export function withoutDefault<T extends TSchema>(schema: T): T {
  const { default: _unused, ...rest } = schema;
  return rest as T;
}

TypeRegistry.Set<{ enum: number[] }>('IntegerEnum', (schema, value) => typeof value === 'number' && schema.enum.includes(value));

/** A closed set of integers as a plain `enum`: a wrong value is told the allowed ones, not "must be equal to constant" once per literal. */
export function IntegerEnum(values: readonly number[], options: { default?: number; description?: string } = {}) {
  return Type.Unsafe<number>({ [Kind]: 'IntegerEnum', type: 'integer', enum: [...values], ...options });
}

TypeRegistry.Set<{ enum: (string | null)[] }>('NullableStringEnum', (schema, value) => schema.enum.includes(value as string | null));

/**
 * A closed set of strings, or null, as OpenAPI 3.0 spells it: `nullable` with `null` among the
 * values. A union of an enum and null became `nullable` without `null` in the enum, which rejects
 * the very null the server sends (strict generated clients failed on `deep_link: null`).
 */
export function NullableStringEnum<const T extends readonly string[]>(values: T, options: { description?: string } = {}) {
  return Type.Unsafe<T[number] | null>({ [Kind]: 'NullableStringEnum', type: 'string', nullable: true, enum: [...values, null], ...options });
}

export function StringEnum<const T extends readonly string[]>(values: T, options: { default?: T[number]; description?: string } = {}) {
  return Type.Unsafe<T[number]>({ [Kind]: 'StringEnum', type: 'string', enum: [...values], ...options });
}

/** Fields every stored resource carries. */
export const Stored = {
  id: Id,
  version: Type.Integer({ minimum: 1, description: 'Increments on every change; send it back in If-Match.' }),
  created_at: DateTime,
  updated_at: DateTime,
};

/**
 * The create body of a resource: `required` keys must be present, the rest are optional and take
 * the defaults written in their schemas.
 */
export function createBody<T extends TObject>(fields: T, required: readonly (keyof T['properties'] & string)[]): TObject {
  const properties: TProperties = {};
  for (const [key, schema] of Object.entries(fields.properties)) {
    properties[key] = required.includes(key) ? schema : Type.Optional(schema);
  }
  return Type.Object(properties, { additionalProperties: false });
}

/** The same fields without their defaults, for bodies where a field left out keeps what is stored. */
export function withoutDefaults<T extends TObject>(fields: T): T {
  const properties = Object.fromEntries(Object.entries(fields.properties).map(([key, schema]) => [key, withoutDefault(schema)]));
  return { ...fields, properties } as T;
}

/**
 * A PATCH body: any subset of the fields, at least one. A field left out keeps its stored value, so
 * the document gives no defaults: a generated client that fills them in would send `status: active`
 * and `postback_secret: null` with every rename, un-pausing the offer and dropping its secret.
 */
export function patchBody<T extends TObject>(fields: T) {
  return Type.Partial(withoutDefaults(fields), { additionalProperties: false, minProperties: 1 });
}

/** The stored form of a resource: its fields plus id, version and timestamps. */
export function storedResource<T extends TObject>(fields: T) {
  return Type.Composite([Type.Object(Stored), fields]);
}

export const PageQuery = Type.Object(
  {
    // Bounded so the offset (page - 1) × page_size stays an exact integer that SQL can take.
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000, default: 1 })),
    page_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  },
  { additionalProperties: false },
);

export function Page<T extends TSchema>(item: T) {
  return Type.Object({
    data: Type.Array(item),
    page: Type.Integer(),
    page_size: Type.Integer(),
    total: Type.Integer(),
  });
}

export const IdParams = Type.Object({ id: Id });

/** The optimistic-locking header of writes (SPEC §3): the version the client read; a newer one stored answers 409. */
export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ description: 'The version last read (e.g. `3`); the write is refused with 409 if the stored one is newer.' })),
});

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: StringEnum([
      'validation_failed',
      'unauthorized',
      'forbidden',
      'not_found',
      'request_timeout',
      'conflict',
      'payload_too_large',
      'rate_limited',
      'internal',
      'unavailable',
    ] as const),
    message: Type.String(),
    details: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  }),
});
