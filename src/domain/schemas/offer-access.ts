import { Type, type Static } from '@sinclair/typebox';
import { Id, StringEnum, withoutDefault } from './common.js';
import { Caps } from './offer.js';

export const ACCESS_STATES = ['approved', 'pending', 'rejected', 'blocked'] as const;

export const OfferAccessBody = Type.Object(
  {
    state: StringEnum(ACCESS_STATES),
    caps: Type.Optional({ ...withoutDefault(Caps), description: 'Partner caps on this offer (same shape as offer caps); left out, the stored caps stay.' }),
  },
  { additionalProperties: false },
);

export const OfferAccess = Type.Object({
  offer_id: Id,
  partner_id: Id,
  state: StringEnum(ACCESS_STATES),
  caps: Caps,
  version: Type.Integer(),
  updated_at: Type.String({ format: 'date-time' }),
});
export type OfferAccess = Static<typeof OfferAccess>;
export const OfferAccessParams = Type.Object({ id: Id, partner_id: Id });
