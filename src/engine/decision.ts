import type { ClickOutcome, SkippedEntry } from '../domain/click.js';
import type { KpiAlgorithm } from './kpi/model.js';
import type { RedirectMode } from './snapshot.js';

/** The eligibility checks of SPEC §4.7, in the order they run. */
export type CheckName =
  | 'offer_status'
  | 'offer_url'
  | 'partner_access'
  | 'entry_ruleset'
  | 'offer_ruleset'
  | 'caps'
  | 'duplicate'
  | 'already_converted';

export interface CheckResult {
  readonly check: CheckName;
  readonly pass: boolean;
  readonly reason: number | null;
  /** For ruleset checks: the dimension that failed. */
  readonly dimension?: string;
}

/** One offer considered for the click, with every check that ran (they stop at the first failure). */
export interface CandidateTrace {
  /** null for the catch-all and fail-traffic destinations, which are not entries. */
  entry_id: number | null;
  offer_id: number;
  offer_url_id: number | null;
  eligible: boolean;
  reason: number | null;
  checks: CheckResult[];
}

export interface WeightDraw {
  /** The eligible entries with weight > 0 that took part in the draw, in list order. */
  weights: { entry_id: number; weight: number }[];
  total_weight: number;
  /** The number drawn in [0, total_weight). */
  roll: number;
}

export interface FailTrafficStep {
  type: 'offer' | 'offer_url' | 'smart_link' | 'url';
  id: number | null;
  viable: boolean;
  reason: number | null;
  candidate: CandidateTrace | null;
  /** The trace of a smart-link destination's own routing. */
  nested: Trace | null;
}

export interface FailTrafficTrace {
  offer_id: number;
  mode: 'priority' | 'weight';
  hop: number;
  steps: FailTrafficStep[];
  /** How the tree ended: at a destination, with nothing viable, or cut short by a loop or the hop limit. */
  ended: 'destination' | 'exhausted' | 'cycle' | 'hop_limit';
}

/** One eligible entry's posterior draw for a thompson click; the highest score wins. */
export interface KpiSample {
  entry_id: number;
  /** The drawn metric per click (rates in percent). */
  sample: number;
  /** The sample, or its negative distance to the goal. */
  score: number;
}

/** How a KPI link routed this click (SPEC §5). */
export interface KpiTrace {
  /** `collecting`: no model yet, entries drawn by weight. */
  phase: 'collecting' | 'optimising';
  algorithm: KpiAlgorithm;
  epoch: number;
  /** The run whose model routed the click; null while collecting. */
  run_id: number | null;
  /** Thompson: the draws of the eligible entries. */
  samples: KpiSample[];
}

export interface Trace {
  smart_link_id: number;
  routing: 'priority' | 'weight' | 'kpi';
  /** Entry ids in candidate order (priority or KPI ranking order; list order for weight and thompson routing). */
  order: number[];
  draw: WeightDraw | null;
  candidates: CandidateTrace[];
  catch_all: CandidateTrace | null;
  fail_traffic: FailTrafficTrace | null;
  /** KPI links only. */
  kpi: KpiTrace | null;
  /** Facts worth showing an operator (e.g. a rejected deep link). */
  notes: string[];
}

/** The engine's answer for one click: where it goes, and why. */
export interface Decision {
  outcome: ClickOutcome;
  smart_link_id: number;
  entry_id: number | null;
  offer_id: number | null;
  offer_url_id: number | null;
  advertiser_id: number | null;
  /** Reason code of the outcome: 901 paused link, 906 suspended partner, 20 no match; null when an offer was reached. */
  reason: number | null;
  /** After macros; null = a blank page. */
  destination_url: string | null;
  redirect_mode: RedirectMode;
  is_unique: boolean;
  deep_link: 'used' | 'rejected' | null;
  /** The KPI run whose model routed the click; null for other links and while collecting. */
  kpi_run_id: number | null;
  /** Entries found ineligible before the winner was known, with their reasons (stored on the click). */
  skipped: SkippedEntry[];
  trace: Trace;
}
