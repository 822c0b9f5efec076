import { Type, type Static } from '@sinclair/typebox';
import { StringEnum, createBody, patchBody, storedResource } from './common.js';

export const TrackingDomainFields = Type.Object({
  host: Type.String({ format: 'host-port', maxLength: 259, description: 'Lower-case host name, optionally with :port.' }),
  scheme: StringEnum(['https', 'http'] as const, { default: 'https' }),
  is_default: Type.Boolean({ default: false }),
});

export const TrackingDomainCreate = createBody(TrackingDomainFields, ['host']);
export const TrackingDomainPatch = patchBody(TrackingDomainFields);
export const TrackingDomain = storedResource(TrackingDomainFields);
export type TrackingDomain = Static<typeof TrackingDomain>;
