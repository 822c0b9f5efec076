import type { RollupKeyColumn, RollupSums, RollupTable } from '../domain/report.js';

/** Entities whose names reports show next to their ids (`entries` are named after their offer). */
export type NamedEntity = 'smart_links' | 'entries' | 'offers' | 'offer_urls' | 'partners' | 'advertisers';

/** One equality filter on a rollup key column; the value is already in stored form (sentinels included). */
export interface RollupFilter {
  column: RollupKeyColumn;
  value: string | number;
}

/** A half-open range of buckets: `fromBucket <= bucket < toBucket` (ISO times). */
export interface BucketRange {
  fromBucket: string;
  toBucket: string;
}

/** Sums of one rollup cube's rows whose bucket lies in one of `ranges`, grouped by the given key columns. */
export interface RollupQuery {
  /** Which cube to read: a table of the closed catalogue in domain/report.ts. */
  table: RollupTable;
  /** Disjoint bucket ranges; together with other queries' ranges they make up the report's range. */
  ranges: readonly BucketRange[];
  groupBy: readonly RollupKeyColumn[];
  filters: readonly RollupFilter[];
  /**
   * Consecutive periods [startBucket, next period's start) to group by as well, each reported under its
   * label (local days: the database then returns one row per day, not per bucket). Every range must
   * lie inside one period or span whole periods; the planner cuts ranges at period starts.
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
