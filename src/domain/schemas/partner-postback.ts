import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Id, PageQuery, StringEnum } from './common.js';

export const POSTBACK_STATES = ['pending', 'sending', 'delivered', 'failed'] as const;

/** A partner postback in the outbox (SPEC §10.4): one per approved conversion of a partner with a postback URL. */
export const PartnerPostback = Type.Object({
  id: Id,
  conversion_id: Id,
  partner_id: Id,
  url: Type.String({ description: 'The URL as queued; each attempt fills the partner\'s current postback URL again.' }),
  state: StringEnum(POSTBACK_STATES, { description: 'pending (due at next_attempt_at), sending, delivered, or failed (gave up; see last_error).' }),
  attempts: Type.Integer({ description: 'Attempts started, in all.' }),
  attempt_base: Type.Integer({ description: 'Attempts made before the last resend: the give-up limit counts those after it.' }),
  next_attempt_at: DateTime,
  last_error: Type.Union([Type.String(), Type.Null()]),
  created_at: DateTime,
  delivered_at: Type.Union([DateTime, Type.Null()]),
});
export type PartnerPostback = Static<typeof PartnerPostback>;

export const PartnerPostbackQuery = Type.Composite(
  [
    PageQuery,
    Type.Object({
      state: Type.Optional(StringEnum(POSTBACK_STATES)),
      partner_id: Type.Optional(Id),
      conversion_id: Type.Optional(Id),
    }),
  ],
  { additionalProperties: false },
);
