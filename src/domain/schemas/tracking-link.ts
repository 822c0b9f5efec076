import { Type } from '@sinclair/typebox';
import { DateTime, Id } from './common.js';

const Sub = Type.String({ maxLength: 512 });
const subs = { sub1: Sub, sub2: Sub, sub3: Sub, sub4: Sub, sub5: Sub };

export const TrackingLinkCreate = Type.Object(
  {
    partner_id: Type.Optional({ ...Id, description: "Required for admin keys; a partner key may only name itself." }),
    ...Object.fromEntries(Object.entries(subs).map(([name, schema]) => [name, Type.Optional(schema)])),
  },
  { additionalProperties: false },
);

export const TrackingLink = Type.Object({
  token: Type.String({ description: 'At least 128 random bits, URL-safe.' }),
  url: Type.String(),
  smart_link_id: Id,
  partner_id: Id,
  sub1: Type.Union([Sub, Type.Null()]),
  sub2: Type.Union([Sub, Type.Null()]),
  sub3: Type.Union([Sub, Type.Null()]),
  sub4: Type.Union([Sub, Type.Null()]),
  sub5: Type.Union([Sub, Type.Null()]),
  created_at: DateTime,
});
