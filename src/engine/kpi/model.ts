/**
 * The data of KPI optimisation (SPEC §5) as the engine sees it. A run turns a window of one smart
 * link's traffic into a `KpiModel`; the snapshot carries the latest model, and every click on the
 * link is routed with it. Everything here is plain data (JSON-safe), so models and run reports are
 * stored as they are and replayed by explain and the simulator.
 */

export const KPI_METRIC_NAMES = ['cvr', 'evr', 'conversions', 'revenue', 'payout', 'profit', 'epc', 'rpc'] as const;
export type KpiMetric = (typeof KPI_METRIC_NAMES)[number];
export type KpiAlgorithm = 'thompson' | 'ranking';

/** A link's KPI settings, defaults applied. */
export interface KpiSettingsView {
  readonly metric: KpiMetric;
  /** Steer toward the entry whose metric is closest to this (rates in percent); null = maximise. */
  readonly goal: number | null;
  readonly runFrequencyHours: number;
  readonly lookbackHours: number;
  /** Clicks since the epoch started before optimisation starts. */
  readonly collectionThreshold: number;
  readonly algorithm: KpiAlgorithm;
}

/** What the clicks routed to an entry brought: counts of approved conversions and their money. */
export interface Outcomes {
  readonly clicks: number;
  /** Approved base conversions of those clicks. */
  readonly conversions: number;
  /** Approved post-conversion events of those clicks. */
  readonly events: number;
  /** Revenue and payout of those conversions and events, in micros. */
  readonly revenueMicros: number;
  readonly payoutMicros: number;
}

/** One hour of an entry's clicks and what they brought so far. */
export interface HourStats extends Outcomes {
  /** Age of these clicks at the run, in milliseconds (the middle of their hour). */
  readonly ageMs: number;
}

/**
 * One entry's traffic: the totals of the run's window (what ranking ranks and the run record
 * shows), and the epoch's recent history hour by hour (what thompson learns from, the window
 * included: `KPI_HISTORY_LOOKBACKS` lookbacks back, never before the epoch).
 */
export interface EntryWindowStats extends Outcomes {
  readonly entryId: number;
  /** Empty = no hourly data: thompson then uses the window totals, uncorrected. */
  readonly hours: readonly HourStats[];
}

/**
 * How many lookbacks of hourly history a run reads for thompson. Older hours are not dropped at
 * once: they are summed into `EarlierOutcomes` as they age out and fade there, so the hourly reads
 * stay bounded while the link's memory reaches past them.
 */
export const KPI_HISTORY_LOOKBACKS = 6;

/** One entry's outcomes, summed over some stretch of time. */
export interface EntryOutcomes extends Outcomes {
  readonly entryId: number;
}

/**
 * The epoch's clicks from before a run's hourly history, summed per entry, with what they brought
 * by the time they aged out of the history, fading with age (see foldEarlier). Carried from run to
 * run in the thompson model, so each run reads only the hours that aged out since the last one.
 * With the history alone, the evidence of an entry a link starved early was gone six lookbacks in,
 * and every such entry was re-explored as if new at about the same moment.
 */
export interface EarlierOutcomes {
  /** ISO 8601 UTC: the sums hold the epoch's clicks before this moment. */
  readonly until: string;
  readonly entries: readonly EntryOutcomes[];
}

/** One entry's outcomes of one hour (or the part of it in the epoch) that aged out of the history. */
export interface AgedHour extends EntryOutcomes {
  /** When the hour (or its part read) ended, in ms since the epoch of the clock. */
  readonly endMs: number;
}

/** An entry of the link as the run sees it (for the priority order of unscored entries). */
export interface KpiEntryRef {
  readonly id: number;
  readonly routingValue: number;
  readonly position: number;
}

/** Everything one run reads. Built by the scheduler from the store, or by the simulator. */
export interface KpiRunInput {
  readonly settings: KpiSettingsView;
  readonly entries: readonly KpiEntryRef[];
  /** One row per entry with clicks in the window or its history; entries without a row had none. */
  readonly stats: readonly EntryWindowStats[];
  /** Click-to-conversion delays (ms) of this link's recent base conversions: the delay model's data. */
  readonly conversionDelaysMs: readonly number[];
  /** Clicks on the link since the epoch started (all entries, catch-all and no-match included; invalid ones not). */
  readonly clicksInEpoch: number;
  /** The model in force before this run, kept when the window holds no clicks. */
  readonly previous: KpiModel | null;
  /**
   * The epoch before the history, and the age at this run of its newest clicks (the history's
   * start, the age they had when they aged out: their conversions count as of then); null = none.
   */
  readonly earlier: { readonly outcomes: EarlierOutcomes; readonly ageMs: number } | null;
}

/** Beta posterior of a rate, and for value metrics a normal posterior of the value per success. */
export interface EntryPosterior {
  readonly entryId: number;
  readonly alpha: number;
  readonly beta: number;
  /** Mean and standard deviation of the value of one success (currency units); null for rate metrics. */
  readonly valueMean: number | null;
  readonly valueSd: number | null;
}

export type KpiModel =
  | {
      readonly algorithm: 'ranking';
      /** Entry ids, winner first; clicks go to the first eligible one. */
      readonly order: readonly number[];
    }
  | {
      readonly algorithm: 'thompson';
      readonly metric: KpiMetric;
      readonly goal: number | null;
      /** Entries absent here (none, while the epoch is the same) are never sampled. */
      readonly posteriors: readonly EntryPosterior[];
      /** What the run knew of the epoch before its history, for the next run to add to; absent in models stored before it existed. */
      readonly earlier?: EarlierOutcomes;
      /**
       * 'gamma' when evr's posteriors are Gamma (shape alpha, rate beta) of events per click. An evr
       * model without it was stored before: Beta posteriors of a proportion (see posteriorsInForce).
       */
      readonly rate_posterior?: 'gamma';
    };

/** What a run reports about one entry (stored in the run record). */
export interface KpiEntryReport {
  entry_id: number;
  clicks: number;
  conversions: number;
  events: number;
  revenue: number;
  payout: number;
  /** Clicks weighted by the share of their conversions expected to have arrived (thompson). */
  effective_clicks: number;
  /** The metric per click (rates in percent); null without clicks. */
  metric_value: number | null;
  /** The ranking score (−distance to the goal when one is set); null when unscored. */
  score: number | null;
  /** 1 = winner (ranking); null for unscored entries and for thompson. */
  rank: number | null;
  posterior: EntryPosterior | null;
  /** Share of eligible-everywhere clicks this entry would win under the new model. */
  expected_share: number | null;
}

export interface KpiRunResult {
  readonly phase: 'collecting' | 'optimising';
  /** The model to route with from now on; null while collecting (routing by weight). */
  readonly model: KpiModel | null;
  /** True when the window held no clicks and the previous model was kept. */
  readonly keptPrevious: boolean;
  readonly entries: readonly KpiEntryReport[];
  /** The entry expected to receive most clicks; null while collecting. */
  readonly winnerEntryId: number | null;
}

/** What the snapshot knows of a KPI link: its settings and the model in force. */
export interface KpiLinkView {
  readonly settings: KpiSettingsView;
  readonly epoch: number;
  /** The run whose model is in force (stored on each click); null while collecting. */
  readonly runId: number | null;
  readonly model: KpiModel | null;
}
