import type { RollupKeyColumn, RollupSums } from '../domain/report.js';

/** Entities whose names reports show next to their ids (`entries` are named after their offer). */
export type NamedEntity = 'smart_links' | 'entries' | 'offers' | 'offer_urls' | 'partners' | 'advertisers';

/** One equality filter on a rollup key column; the value is already in stored form (sentinels included). */
export interface RollupFilter {
  column: RollupKeyColumn;
  value: string | number;
}

/** Sums of the rollups with `fromBucket <= bucket < toBucket`, grouped by the given key columns. */
export interface RollupQuery {
  fromBucket: string;
  toBucket: string;
  groupBy: readonly RollupKeyColumn[];
  filters: readonly RollupFilter[];
  /**
   * Consecutive periods [startBucket, next period's start or toBucket) to group by as well, each
   * reported under its label (local days: the database then returns one row per day, not per bucket).
   */
  periods?: readonly { startBucket: string; label: string }[];
}

export interface RollupGroup {
  /** The group's key values, in stored form (sentinels, not nulls). */
  key: Partial<Record<RollupKeyColumn, string | number>>;
  sums: RollupSums;
  /** The label of the group's period, when periods were asked for. */
  period?: string;
}

export interface SkipCount {
  entry_id: number;
  reason: number;
  count: number;
}

/** Reads report data: the rollups, skip reasons from raw clicks, and entity names. */
export interface ReportReader {
  rollups(query: RollupQuery): Promise<RollupGroup[]>;
  /** How often each entry was skipped, and why, over the clicks of one smart link in [from, to). */
  skipReasons(query: { smartLinkId: number; partnerId?: number; from: string; to: string }): Promise<SkipCount[]>;
  names(entity: NamedEntity, ids: readonly number[]): Promise<Map<number, string>>;
}
