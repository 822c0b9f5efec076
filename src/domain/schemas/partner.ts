import { Type, type Static } from '@sinclair/typebox';
import { DateTime, HttpUrl, Id, Name, StringEnum, createBody, patchBody, storedResource } from './common.js';

export const PartnerFields = Type.Object({
  name: Name,
  status: StringEnum(['active', 'suspended'] as const, { default: 'active' }),
  postback_url: Type.Union([HttpUrl, Type.Null()], { default: null }),
});

export const PartnerCreate = createBody(PartnerFields, ['name']);
export const PartnerPatch = patchBody(PartnerFields);
export const Partner = storedResource(PartnerFields);
export type Partner = Static<typeof Partner>;

export const ApiKeyCreated = Type.Object({
  id: Id,
  key: Type.String({ description: 'Shown only in this response; store it now.' }),
  role: Type.Literal('partner'),
  partner_id: Id,
});

/** A stored key as an admin may see it: never its secret, which only its hash records. */
export const ApiKey = Type.Object({
  id: Id,
  role: StringEnum(['admin', 'partner'] as const),
  partner_id: Type.Union([Id, Type.Null()]),
  created_at: DateTime,
});

export const ApiKeyQuery = Type.Object({
  partner_id: Type.Optional(Id),
});
