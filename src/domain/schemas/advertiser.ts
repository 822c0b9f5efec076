import { Type, type Static } from '@sinclair/typebox';
import { Name, StringEnum, createBody, patchBody, storedResource } from './common.js';

export const AdvertiserFields = Type.Object({
  name: Name,
  status: StringEnum(['active', 'inactive', 'deleted'] as const, {
    default: 'active',
    description: '`deleted`: kept only because deleted offers (and their clicks and conversions) still name it; hidden from lists.',
  }),
  default_currency: Type.String({ pattern: '^[A-Z]{3}$', default: 'USD', description: 'ISO 4217 code' }),
});

export const AdvertiserCreate = createBody(AdvertiserFields, ['name']);
export const AdvertiserPatch = patchBody(AdvertiserFields);
export const Advertiser = storedResource(AdvertiserFields);
export type Advertiser = Static<typeof Advertiser>;
