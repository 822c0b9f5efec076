import { Type, type Static } from '@sinclair/typebox';
import { HttpUrl, Id, Name, StringEnum, createBody, patchBody, storedResource } from './common.js';

export const OfferUrlFields = Type.Object({
  name: Name,
  destination_url: HttpUrl,
  status: StringEnum(['active', 'paused', 'deleted'] as const, { default: 'active' }),
  partner_ids: Type.Union([Type.Array(Id, { maxItems: 1000, uniqueItems: true }), Type.Null()], {
    default: null,
    description: 'When set, only these partners may receive traffic on this URL.',
  }),
});

export const OfferUrlCreate = createBody(OfferUrlFields, ['name', 'destination_url']);
export const OfferUrlPatch = patchBody(OfferUrlFields);
export const OfferUrl = storedResource(Type.Composite([Type.Object({ offer_id: Id }), OfferUrlFields]));
export type OfferUrl = Static<typeof OfferUrl>;
export const OfferUrlParams = Type.Object({ id: Id, url_id: Id });
