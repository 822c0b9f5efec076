import { Type } from '@sinclair/typebox';
import { DateTime, Id, NullableStringEnum, StringEnum } from './common.js';
import { CLICK_OUTCOMES } from '../click.js';

const Text = Type.Union([Type.String(), Type.Null()]);
const MaybeId = Type.Union([Id, Type.Null()]);

export const ClickParams = Type.Object({ transaction_id: Type.String({ pattern: '^[0-9a-f]{32}$' }) });

/** A stored click with its routing trace (SPEC §2). */
export const Click = Type.Object({
  transaction_id: Type.String(),
  time: DateTime,
  smart_link_id: Id,
  partner_id: Id,
  tracking_token: Type.String(),
  entry_id: MaybeId,
  offer_id: MaybeId,
  offer_url_id: MaybeId,
  advertiser_id: Type.Optional({ ...MaybeId, description: 'Admin keys only: partner keys never see who the advertiser is.' }),
  outcome: StringEnum(CLICK_OUTCOMES),
  reason: Type.Union([Type.Integer(), Type.Null()]),
  skipped: Type.Array(Type.Object({ entry_id: Id, reason: Type.Integer() }), { description: 'Entries passed over, each with its reason code.' }),
  is_unique: Type.Boolean(),
  ip: Text,
  user_agent: Text,
  device: Type.Object({ os: Text, os_version: Text, device_type: Text, browser: Text, brand: Text, language: Text }),
  geo: Type.Object({ country: Text, region: Text, city: Text }),
  sub1: Text,
  sub2: Text,
  sub3: Text,
  sub4: Text,
  sub5: Text,
  source_id: Text,
  idfa: Text,
  gaid: Text,
  visitor_id: Type.Optional(Type.String({
    description: "The browser's identity on the offer, carried by its offer cookie: the transaction id of its first click there (admin keys only: it may be another partner's click).",
  })),
  destination: Text,
  deep_link: NullableStringEnum(['used', 'rejected'] as const, {
    description: "A url= deep link the visitor asked for: used, or rejected (not http(s), not on the offer's allow-list, or the click reached no offer) and the normal destination used instead.",
  }),
  kpi_run_id: MaybeId,
});
