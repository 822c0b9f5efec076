import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Id, Nullable, NullableStringEnum, PageQuery, StringEnum } from './common.js';
import { KPI_METRICS } from './smart-link.js';

const ALGORITHMS = ['thompson', 'ranking'] as const;
const PHASES = ['collecting', 'optimising'] as const;
export const KPI_RESET_REASONS = ['created', 'entries_changed', 'metric_changed', 'goal_changed', 'routing_changed', 'manual'] as const;

export const KpiPosterior = Type.Object(
  {
    entry_id: Id,
    alpha: Type.Number(),
    beta: Type.Number(),
    value_mean: Nullable(Type.Number({ description: 'Value metrics: mean value of one success, in currency units.' })),
    value_sd: Nullable(Type.Number()),
  },
  { description: 'Beta posterior of the success rate (evr: Gamma posterior of events per click, shape alpha and rate beta); for value metrics also a normal posterior of the value per success.' },
);

export const KpiModel = Type.Union(
  [
    Type.Object({
      algorithm: Type.Literal('ranking'),
      order: Type.Array(Id, { description: 'Entry ids, winner first: a click goes to the first eligible one.' }),
    }),
    Type.Object({
      algorithm: Type.Literal('thompson'),
      metric: StringEnum(KPI_METRICS),
      goal: Nullable(Type.Number()),
      posteriors: Type.Array(KpiPosterior, { description: 'Each click draws from the eligible entries’ posteriors; the best draw wins.' }),
    }),
  ],
  { description: 'The allocation clicks are routed with.' },
);

export const KpiRunEntry = Type.Object({
  entry_id: Id,
  clicks: Type.Integer({ description: 'Clicks routed to the entry in the window.' }),
  conversions: Type.Integer({ description: 'Approved base conversions of those clicks.' }),
  events: Type.Integer({ description: 'Approved events of those clicks.' }),
  revenue: Type.Number(),
  payout: Type.Number(),
  effective_clicks: Type.Number({ description: 'Clicks weighted by the share of their conversions expected to have arrived (thompson).' }),
  metric_value: Nullable(Type.Number({ description: 'The metric per click (rates in percent); null without clicks.' })),
  score: Nullable(Type.Number({ description: 'The metric, or its negative distance to the goal.' })),
  rank: Nullable(Type.Integer({ description: 'ranking: 1 = winner; null when unscored or thompson.' })),
  posterior: Nullable(KpiPosterior),
  expected_share: Nullable(Type.Number({ description: 'Share of clicks the entry would win if every entry were eligible.' })),
});

export const KpiRun = Type.Object(
  {
    id: Id,
    smart_link_id: Id,
    epoch: Type.Integer({ minimum: 1 }),
    kind: StringEnum(['run', 'reset'] as const),
    run_at: DateTime,
    slot_at: Nullable({ ...DateTime, description: 'The scheduled slot (at most one run per link and slot); null for resets.' }),
    window_from: Nullable(DateTime),
    window_to: Nullable({ ...DateTime, description: 'Exclusive. The window is the lookback before the slot, cut to the epoch.' }),
    algorithm: StringEnum(ALGORITHMS),
    metric: StringEnum(KPI_METRICS),
    goal: Nullable(Type.Number()),
    phase: NullableStringEnum(PHASES, { description: 'collecting (no model, clicks split by weight) until the epoch has collection_threshold clicks and a run finds clicks in its window; null for resets.' }),
    clicks_in_epoch: Type.Integer({ description: 'Clicks on the link from the epoch start to the slot, invalid ones (turned away) excepted.' }),
    kept_previous: Type.Boolean({ description: 'The window held no clicks, so the previous model stays in force.' }),
    entries: Type.Array(KpiRunEntry),
    model: Nullable(KpiModel),
    winner_entry_id: Nullable(Id),
    previous_winner_entry_id: Nullable(Id),
    reset_reason: NullableStringEnum(KPI_RESET_REASONS),
  },
  { description: 'One line of the run record: a scheduled run, or a reset that started a new epoch.' },
);

export const KpiRunsQuery = Type.Composite(
  [
    PageQuery,
    Type.Partial(
      Type.Object({
        from: { ...DateTime, description: 'Lines at or after this time.' },
        to: { ...DateTime, description: 'Lines before this time.' },
      }),
    ),
  ],
  { additionalProperties: false },
);

export const KpiStatus = Type.Object({
  smart_link_id: Id,
  settings: Type.Object({
    metric: StringEnum(KPI_METRICS),
    goal: Nullable(Type.Number()),
    run_frequency_hours: Type.Integer(),
    lookback_hours: Type.Integer(),
    collection_threshold: Type.Integer(),
    algorithm: StringEnum(ALGORITHMS),
  }, { description: 'The link’s KPI settings with defaults applied.' }),
  epoch: Type.Integer({ description: 'Starts at 1; every reset adds one. 0 = not started yet (the scheduler starts it).' }),
  epoch_started_at: Nullable(DateTime),
  phase: StringEnum(PHASES, { description: 'collecting: no model yet, clicks split by weight.' }),
  clicks_in_epoch: Type.Integer(),
  model: Nullable(KpiModel),
  model_run_id: Nullable({ ...Id, description: 'The run whose model is in force; stored on every click it routes.' }),
  last_run_at: Nullable(DateTime),
  next_run_at: Nullable({ ...DateTime, description: 'When the next run is due; null while the link is paused (only active links are run).' }),
});

export type KpiRunsQuery = Static<typeof KpiRunsQuery>;
export type KpiStatus = Static<typeof KpiStatus>;
export type KpiRun = Static<typeof KpiRun>;
