import { sql, type RawBuilder } from 'kysely';
import { ROLLUP_CUBES, ROLLUP_SUM_COLUMNS, type RollupKeyColumn } from '../../domain/report.js';
import type { NamedEntity, ReportReader, RollupQuery } from '../../ports/report-reader.js';
import type { Executor } from './dialect.js';
import { moneySum } from './money-sum.js';

const TABLE_OF: Record<Exclude<NamedEntity, 'entries'>, string> = {
  smart_links: 'smart_links', offers: 'offers', offer_urls: 'offer_urls', partners: 'partners', advertisers: 'advertisers',
};

/** Ids per name look-up statement: far below every database's bound-parameter limit. */
const NAME_CHUNK = 10_000;

const nameIn = (data: string): string | undefined => {
  const parsed: unknown = JSON.parse(data);
  return typeof parsed === 'object' && parsed !== null && 'name' in parsed && typeof parsed.name === 'string' ? parsed.name : undefined;
};

/**
 * The label of the period a bucket falls in, as a balanced tree of `case` expressions over the period
 * starts: about log2(periods) text comparisons per row, in SQL every database shares, and one row per
 * period and key comes back instead of one per bucket.
 */
function periodOf(periods: NonNullable<RollupQuery['periods']>, lo: number, hi: number): RawBuilder<unknown> {
  if (hi - lo === 1) return sql`${periods[lo]?.label ?? ''}`;
  const mid = (lo + hi) >> 1;
  return sql`case when r.bucket < ${periods[mid]?.startBucket ?? ''} then ${periodOf(periods, lo, mid)} else ${periodOf(periods, mid, hi)} end`;
}

/**
 * Report queries over the rollup cubes. Table and column names reach SQL only through `sql.table` and
 * `sql.ref` of values typed as catalogue tables and rollup columns (closed lists); every value is a
 * bound parameter.
 */
export function reportReader(db: Executor): ReportReader {
  return {
    async rollups(query: RollupQuery) {
      // The types already confine table and columns to the catalogue; the checks keep them so for
      // messages that crossed a thread boundary, and the table name comes from the catalogue entry.
      const cube = ROLLUP_CUBES.find((c) => c.table === query.table);
      if (cube === undefined) throw new Error(`unknown rollup table ${String(query.table).slice(0, 40)}`);
      const known = new Set<string>(['bucket', ...cube.dimensions]);
      for (const column of [...query.groupBy, ...query.filters.map((f) => f.column)]) {
        if (!known.has(column)) throw new Error(`${cube.table} has no column ${String(column).slice(0, 40)}`);
      }
      if (query.ranges.length === 0) return [];
      const table = sql.table(cube.table);
      const ref = (column: string) => sql.ref(`r.${column}`);
      const ranges = query.ranges.map((range) => sql`(r.bucket >= ${range.fromBucket} and r.bucket < ${range.toBucket})`);
      const conditions: RawBuilder<unknown>[] = [ranges.length === 1 ? (ranges[0] as RawBuilder<unknown>) : sql`(${sql.join(ranges, sql` or `)})`];
      for (const filter of query.filters) conditions.push(sql`${ref(filter.column)} = ${filter.value}`);
      if (cube.leading !== undefined && !query.filters.some((f) => f.column === cube.leading)) {
        // The key starts with this dimension, not the bucket: seek each of its values' bucket range
        // in turn (a skip scan; the values are found by one index seek each) instead of reading
        // the whole table for a range of buckets.
        const lead = sql.ref(cube.leading);
        conditions.push(sql`${ref(cube.leading)} in (with recursive v(x) as (select min(${lead}) from ${table}
          union all select (select min(${lead}) from ${table} where ${lead} > v.x) from v where v.x is not null)
          select x from v where x is not null)`);
      }
      const groups = query.groupBy.map((column) => sql`${ref(column)} as ${sql.ref(column)}`);
      const sums = ROLLUP_SUM_COLUMNS.map((column) => sql`${column.endsWith('_micros') ? moneySum(ref(column)) : sql`sum(${ref(column)})`} as ${sql.ref(column)}`);
      const periods = query.periods ?? [];
      const period = periods.length > 0 ? periodOf(periods, 0, periods.length) : undefined;
      const keys = [...(period ? [period] : []), ...query.groupBy.map(ref)];
      const select = sql.join([...(period ? [sql`${period} as period`] : []), ...groups, ...sums]);
      const groupBy = keys.length > 0 ? sql` group by ${sql.join(keys)}` : sql``;
      const { rows } = await sql<Record<string, string | number | null>>`select ${select} from ${table} r
        where ${sql.join(conditions, sql` and `)}${groupBy}`.execute(db);
      return rows
        // An ungrouped sum over no rows is one row of nulls: no data, no group.
        .filter((row) => row.clicks !== null)
        .map((row) => ({
          key: Object.fromEntries(query.groupBy.map((column: RollupKeyColumn) => [column, row[column] ?? ''])),
          sums: Object.fromEntries(ROLLUP_SUM_COLUMNS.map((column) => [column, Number(row[column] ?? 0)])) as Record<(typeof ROLLUP_SUM_COLUMNS)[number], number>,
          ...(typeof row.period === 'string' ? { period: row.period } : {}),
        }));
    },

    async skipReasons(query) {
      // Skips live only in raw clicks (a JSON array per click): read the link's clicks in range,
      // which the (smart_link_id, time) index finds, and count in JS so no JSON SQL dialect is needed.
      const partner = query.partnerId === undefined ? sql`` : sql` and partner_id = ${query.partnerId}`;
      const { rows } = await sql<{ skipped: string }>`select skipped from clicks
        where smart_link_id = ${query.smartLinkId} and time >= ${query.from} and time < ${query.to}
        and skipped <> '[]'${partner}`.execute(db);
      const counts = new Map<string, { entry_id: number; reason: number; count: number }>();
      for (const row of rows) {
        for (const skip of JSON.parse(row.skipped) as { entry_id: number; reason: number }[]) {
          const id = `${skip.entry_id}:${skip.reason}`;
          const found = counts.get(id) ?? { entry_id: skip.entry_id, reason: skip.reason, count: 0 };
          found.count += 1;
          counts.set(id, found);
        }
      }
      return [...counts.values()].sort((a, b) => a.entry_id - b.entry_id || a.reason - b.reason);
    },

    async names(entity, ids) {
      const names = new Map<number, string>();
      // A report may hold more ids than one statement can bind (SQLite: 32,766 parameters): one
      // `in` list per chunk, or a year grouped by partner of a large network failed whole.
      for (let start = 0; start < ids.length; start += NAME_CHUNK) {
        const list = sql.join(ids.slice(start, start + NAME_CHUNK).map((id) => sql`${id}`));
        const { rows } = entity === 'entries'
          ? await sql<{ id: number; data: string }>`select e.id as id, o.data as data
            from smart_link_entries e join offers o on o.id = e.offer_id where e.id in (${list})`.execute(db)
          : await sql<{ id: number; data: string }>`select id, data from ${sql.table(TABLE_OF[entity])}
            where id in (${list})`.execute(db);
        for (const row of rows) names.set(Number(row.id), nameIn(row.data) ?? '');
      }
      return names;
    },
  };
}
