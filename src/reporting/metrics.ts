import type { RollupSums } from '../domain/report.js';
import { ADMIN_ONLY_COLUMNS, COLUMNS, type ColumnName } from './dimensions.js';

const MICROS = 1_000_000;

/** Rounds to 6 decimal places: ratios to a millionth, money per click to the micro. */
export const round6 = (value: number) => Math.round(value * MICROS) / MICROS;

const per = (amount: number, clicks: number) => (clicks === 0 ? 0 : round6(amount / clicks));

/** The report columns of one group's sums (definitions: see COLUMNS in dimensions.ts). */
export function columnsOf(sums: RollupSums): Record<ColumnName, number> {
  const { clicks } = sums;
  return {
    clicks,
    unique_clicks: sums.unique_clicks,
    duplicate_clicks: sums.duplicate_clicks,
    invalid_clicks: sums.invalid_clicks,
    conversions: sums.conversions,
    events: sums.events,
    cvr: per(sums.conversions, clicks),
    evr: per(sums.events, clicks),
    revenue: sums.revenue_micros / MICROS,
    payout: sums.payout_micros / MICROS,
    profit: (sums.revenue_micros - sums.payout_micros) / MICROS,
    epc: per(sums.payout_micros / MICROS, clicks),
    rpc: per(sums.revenue_micros / MICROS, clicks),
  };
}

/** The columns a caller may see: partner keys get none of what the network earns. */
export function visibleColumns(admin: boolean): ColumnName[] {
  return COLUMNS.filter((column) => admin || !ADMIN_ONLY_COLUMNS.has(column));
}

export function addSums(into: RollupSums, more: RollupSums): void {
  for (const column of Object.keys(into) as (keyof RollupSums)[]) into[column] += more[column];
}

export const emptySums = (): RollupSums => ({
  clicks: 0, unique_clicks: 0, duplicate_clicks: 0, invalid_clicks: 0, conversions: 0, events: 0, revenue_micros: 0, payout_micros: 0,
});
