import { Type, type Static } from '@sinclair/typebox';
import {
  DateTime, HttpUrl, Id, Money, Name, StringEnum, TimeZone, createBody, patchBody, storedResource, withDefault,
} from './common.js';
import { Ruleset } from './ruleset.js';

export const OFFER_STATUSES = ['active', 'paused', 'pending', 'deleted'] as const;

export const Cap = Type.Object(
  {
    metric: StringEnum(['clicks', 'conversions', 'payout', 'revenue'] as const),
    period: StringEnum(['daily', 'weekly', 'monthly', 'global'] as const),
    limit: Type.Number({ ...Money, description: 'A whole number for clicks and conversions caps; an amount with up to four decimals for payout and revenue caps.' }),
    mode: Type.Optional(StringEnum(['hard', 'soft'] as const, { default: 'hard' })),
  },
  { additionalProperties: false },
);
export const Caps = Type.Array(Cap, { maxItems: 16, default: [] });

export const Amount = Type.Object(
  {
    type: StringEnum(['fixed', 'percent'] as const),
    value: Money,
  },
  { additionalProperties: false, description: 'A fixed amount, or a percentage of the postback `amount`.' },
);

export const DuplicateFilter = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ default: false })),
    identifier: Type.Optional(StringEnum(['cookie', 'ip', 'ip_user_agent', 'gaid', 'idfa'] as const, { default: 'cookie' })),
    window_hours: Type.Optional(Type.Integer({ minimum: 1, maximum: 8760, default: 24 })),
    action: Type.Optional(StringEnum(['block', 'fail_traffic'] as const, { default: 'block' })),
  },
  { additionalProperties: false },
);

export const FailTrafficDestination = Type.Object(
  {
    type: StringEnum(['offer', 'offer_url', 'smart_link', 'url'] as const),
    id: Type.Optional(Id),
    url: Type.Optional(HttpUrl),
    routing_value: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
  },
  { additionalProperties: false, description: '`id` for offer, offer_url and smart_link destinations; `url` for url.' },
);

export const FailTraffic = Type.Object(
  {
    mode: StringEnum(['priority', 'weight'] as const),
    destinations: Type.Array(FailTrafficDestination, { minItems: 1, maxItems: 20 }),
  },
  { additionalProperties: false },
);

export const DeepLink = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ default: false })),
    allowed_hosts: Type.Optional(
      Type.Array(Type.String({ pattern: '^(\\*\\.)?[a-z0-9.-]{1,253}$' }), { maxItems: 100, default: [] }),
    ),
  },
  { additionalProperties: false },
);

export const OfferFields = Type.Object({
  advertiser_id: Id,
  name: Name,
  status: StringEnum(OFFER_STATUSES, { default: 'active' }),
  destination_url: HttpUrl,
  visibility: StringEnum(['public', 'require_approval', 'private'] as const, { default: 'public' }),
  ruleset: Type.Union([Ruleset, Type.Null()], { default: null }),
  caps: Caps,
  caps_timezone: withDefault(TimeZone, 'UTC'),
  duplicate_filter: withDefault(DuplicateFilter, { enabled: false }),
  block_already_converted: Type.Boolean({ default: false }),
  redirect_mode: StringEnum(['standard', 'single_meta_refresh', 'double_meta_refresh'] as const, { default: 'standard' }),
  deep_link: withDefault(DeepLink, { enabled: false }),
  conversion_method: StringEnum(['server_postback', 'cookie'] as const, { default: 'server_postback' }),
  allow_duplicate_conversions: Type.Boolean({ default: false }),
  payout: withDefault(Amount, { type: 'fixed', value: 0 }),
  revenue: withDefault(Amount, { type: 'fixed', value: 0 }),
  attribution_window_days: Type.Integer({ minimum: 1, maximum: 3650, default: 90 }),
  postback_secret: Type.Union([Type.String({ minLength: 8, maxLength: 256 }), Type.Null()], {
    default: null,
    description: 'Write-only. Stored hashed; postbacks must then carry it as `verification_token`.',
  }),
  fail_traffic: Type.Union([FailTraffic, Type.Null()], { default: null }),
  expires_at: Type.Union([DateTime, Type.Null()], { default: null }),
});

export const OfferCreate = createBody(OfferFields, ['advertiser_id', 'name', 'destination_url']);
export const OfferPatch = patchBody(OfferFields);

/** What the API returns: the secret itself is never shown again. */
export const Offer = storedResource(
  Type.Composite([
    Type.Omit(OfferFields, ['postback_secret']),
    Type.Object({
      has_postback_secret: Type.Boolean(),
      warnings: Type.Array(Type.String(), { description: 'Configuration problems that do not block saving.' }),
    }),
  ]),
);

export type OfferInput = Static<typeof OfferFields>;
export type Offer = Static<typeof Offer>;
export type Cap = Static<typeof Cap>;
export type Amount = Static<typeof Amount>;
export type FailTraffic = Static<typeof FailTraffic>;
export type DuplicateFilter = Static<typeof DuplicateFilter>;
export type DeepLink = Static<typeof DeepLink>;
