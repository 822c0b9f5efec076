import type { KpiAlgorithm, KpiEntryReport, KpiMetric, KpiModel } from '../engine/kpi/model.js';

/** Why a new optimisation epoch started (SPEC §5: earlier data is then ignored). */
export type KpiResetReason = 'created' | 'entries_changed' | 'metric_changed' | 'goal_changed' | 'routing_changed' | 'manual';

/** One KPI link's optimisation state: its epoch and the model clicks are routed with. */
export interface KpiStateRecord {
  smart_link_id: number;
  /** Starts at 1; every reset adds one. */
  epoch: number;
  /** ISO 8601 UTC: the start of the epoch; clicks before it are never used. */
  epoch_started_at: string;
  /** The model in force; null while collecting (clicks routed by weight). */
  model: KpiModel | null;
  /** The run that produced `model`, stored on every click it routes. */
  model_run_id: number | null;
  /** ISO 8601 UTC of the last run, null before the first. */
  last_run_at: string | null;
}

/** One line of a smart link's run record (SPEC §5): a scheduled run, or a reset. */
export interface KpiRunRecord {
  id: number;
  smart_link_id: number;
  epoch: number;
  kind: 'run' | 'reset';
  /** ISO 8601 UTC when it happened. */
  run_at: string;
  /** The scheduled slot a run belongs to (at most one run per link and slot); null for resets. */
  slot_at: string | null;
  /** The run's window [from, to) = lookback ∩ epoch; null for resets. */
  window_from: string | null;
  window_to: string | null;
  algorithm: KpiAlgorithm;
  metric: KpiMetric;
  goal: number | null;
  /** `collecting` until the epoch has `collection_threshold` clicks; null for resets. */
  phase: 'collecting' | 'optimising' | null;
  clicks_in_epoch: number;
  /** True when the window held no clicks and the previous model was kept. */
  kept_previous: boolean;
  entries: KpiEntryReport[];
  /** The allocation clicks are routed with from this run on (null while collecting). */
  model: KpiModel | null;
  winner_entry_id: number | null;
  previous_winner_entry_id: number | null;
  /** For resets: why. */
  reset_reason: KpiResetReason | null;
}
