import { Type, type Static } from '@sinclair/typebox';
import { Id, IntegerEnum, Name, StringEnum, createBody, patchBody, storedResource } from './common.js';
import { Ruleset } from './ruleset.js';

export const MAX_ENTRIES = 500;

export const KPI_METRICS = ['cvr', 'evr', 'conversions', 'revenue', 'payout', 'profit', 'epc', 'rpc'] as const;

export const KpiSettings = Type.Object(
  {
    metric: StringEnum(KPI_METRICS),
    goal: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1e12 }), Type.Null()], { description: 'Steer toward the entry whose metric is closest to this (rates in percent); null or 0 = no goal, the highest wins.' })),
    run_frequency_hours: Type.Optional(IntegerEnum([1, 3, 6, 12, 24], { default: 24 })),
    lookback_hours: Type.Optional(IntegerEnum([12, 24, 48], { default: 24 })),
    collection_threshold: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000_000, default: 1000 })),
    algorithm: Type.Optional(StringEnum(['thompson', 'ranking'] as const, { default: 'thompson' })),
  },
  { additionalProperties: false },
);

export const EntryInput = Type.Object(
  {
    id: Type.Optional({ ...Id, description: 'Give an existing entry id to keep its identity on update.' }),
    offer_id: Id,
    offer_url_id: Type.Optional(Type.Union([Id, Type.Null()], { default: null, description: "null = the offer's base URL" })),
    routing_value: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0, description: 'Priority rank or weight' }),
    ),
    ruleset: Type.Optional(Type.Union([Ruleset, Type.Null()], { default: null })),
  },
  { additionalProperties: false },
);

export const SmartLinkFields = Type.Object({
  name: Name,
  status: StringEnum(['active', 'paused', 'deleted'] as const, { default: 'active' }),
  tracking_domain_id: Type.Union([Id, Type.Null()], {
    description: 'Defaults to the default tracking domain; null = PUBLIC_URL.',
  }),
  routing: StringEnum(['priority', 'weight', 'kpi'] as const, { default: 'priority' }),
  entries: Type.Array(EntryInput, { minItems: 1, maxItems: MAX_ENTRIES }),
  catch_all_offer_id: Type.Union([Id, Type.Null()], { default: null }),
  visible_to_partners: Type.Boolean({ default: false }),
  kpi: Type.Union([KpiSettings, Type.Null()], { default: null }),
});

export const SmartLinkCreate = createBody(SmartLinkFields, ['name', 'entries']);
export const SmartLinkPatch = patchBody(SmartLinkFields);

export const Entry = Type.Object({
  id: Id,
  offer_id: Id,
  offer_url_id: Type.Union([Id, Type.Null()]),
  routing_value: Type.Integer(),
  ruleset: Type.Union([Ruleset, Type.Null()]),
});

export const SmartLink = storedResource(
  Type.Composite([
    Type.Omit(SmartLinkFields, ['entries']),
    Type.Object({
      entries: Type.Array(Entry),
      warnings: Type.Array(Type.String(), { description: 'Configuration problems that do not block saving. Always empty for a partner key, which is not shown them.' }),
    }),
  ]),
);

export type SmartLinkInput = Static<typeof SmartLinkFields>;
export type EntryInput = Static<typeof EntryInput>;
export type Entry = Static<typeof Entry>;
export type KpiSettings = Static<typeof KpiSettings>;
export type SmartLink = Static<typeof SmartLink>;
