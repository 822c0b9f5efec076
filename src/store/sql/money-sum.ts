import { sql, type RawBuilder } from 'kysely';

/**
 * The SQL sum of a money column (integer micros) that cannot overflow. Each conversion's payout and
 * revenue fit in 2^53 micros, but nothing bounds their count: 1,025 conversions of the largest
 * amount (a pixel reports whatever amount the page, or the visitor, puts in it) pass 2^63, where
 * SQLite's integer `sum` throws "integer overflow" — the start that reads them back failed for
 * good, and reports over them answered 500. Summed as decimals instead: exact while the total stays
 * below 2^53 micros, as the JavaScript number it is read into is anyway. (The rollup rebuild in
 * rollup-row.ts, SQL text, sums the same way.)
 */
export const moneySum = (column: RawBuilder<unknown>): RawBuilder<unknown> => sql`sum(${column} * 1.0)`;
