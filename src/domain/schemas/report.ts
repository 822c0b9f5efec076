import { Type } from '@sinclair/typebox';
import { Id, StringEnum, TimeZone } from './common.js';
import { KpiRun } from './kpi.js';

const Bound = (description: string) => Type.Optional(Type.String({ maxLength: 40, description }));

const RangeQuery = {
  from: Bound('A local date `YYYY-MM-DD` (start of that day in `timezone`) or a date-time with offset on a quarter hour. Default: today.'),
  to: Bound('A local date `YYYY-MM-DD` (its whole day included) or a date-time with offset on a quarter hour (exclusive). Default: end of today.'),
  timezone: Type.Optional(TimeZone),
  format: Type.Optional(StringEnum(['json', 'csv'] as const, { description: 'csv = the rows as CSV (without `format`, chosen by an `Accept` header that prefers `text/csv` to JSON).' })),
};

/**
 * `GET /reports` query. `filter[<dimension>]=value` parameters are allowed by pattern and checked
 * against the closed dimension list by the handler.
 */
export const ReportQuery = Type.Object(
  {
    ...RangeQuery,
    group_by: Type.Optional(Type.String({ maxLength: 300, description: 'Comma-separated dimensions: day, hour, smart_link, entry, offer, offer_url, partner, advertiser, country, device_type, os, browser, sub1–sub5, source_id, outcome, reason.' })),
    sort: Type.Optional(Type.String({ maxLength: 40, description: 'A column or a grouped dimension key; default: the dimension keys in order.' })),
    order: Type.Optional(StringEnum(['asc', 'desc'] as const)),
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    page_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'Default 1000.' })),
  },
  { additionalProperties: false, patternProperties: { '^filter\\[[^\\]]{1,64}\\]$': Type.String({ maxLength: 512 }) } },
);

export const SmartLinkReportQuery = Type.Object(RangeQuery, { additionalProperties: false });
export const SmartLinkReportParams = Type.Object({ id: Id });

const METRICS = [
  'clicks: every recorded click',
  'unique_clicks / duplicate_clicks: clicks first / not first seen from their visitor',
  'invalid_clicks: clicks with outcome invalid or no_match',
  'conversions / events: approved and pending base conversions / events (rejected count nowhere), at the conversion time, under the dimensions of its click',
  'cvr = conversions / clicks; evr = events / clicks (6 decimals; 0 without clicks)',
  'revenue, payout: approved and pending, in currency units; profit = revenue − payout',
  'epc = payout / clicks (what a partner earns per click); rpc = revenue / clicks',
  'partner keys: own traffic only; no revenue, profit, rpc or advertiser',
].join('. ');

const Row = Type.Object({}, { additionalProperties: true, description: 'Dimension keys (entities as `<entity>_id` and `<entity>_name`; day `YYYY-MM-DD`; hour local ISO with offset), then the columns.' });

export const ReportAnswer = Type.Object(
  { rows: Type.Array(Row), totals: Row, page: Type.Integer(), page_size: Type.Integer(), total: Type.Integer() },
  { description: `Report rows and their totals (the sums over every row of every page). ${METRICS}.` },
);

export const SmartLinkReportAnswer = Type.Object(
  {
    smart_link_id: Id,
    from: Type.String(),
    to: Type.String(),
    timezone: Type.String(),
    entries: Type.Array(Row),
    fallbacks: Type.Array(Row, { description: 'Traffic no entry took, one row per outcome (`catch_all`, `fail_traffic`) and offer (`offer_id` null for a fail-traffic URL), with the same figures as entries.' }),
    totals: Row,
    catch_all_clicks: Type.Integer(),
    no_match_clicks: Type.Integer(),
    outcomes: Type.Record(Type.String(), Type.Integer()),
    skip_reasons: Type.Array(Type.Object({ entry_id: Type.Integer(), reason: Type.Integer(), count: Type.Integer() })),
    kpi_runs: Type.Array(KpiRun, { description: 'The KPI run record in range, newest first, at most its newest 1,000 lines (`GET /api/v1/smart-links/{id}/kpi/runs` pages through every line); admin keys only.' }),
  },
  { description: `Per-entry rows, catch-all and fail-traffic rows, the link's totals, outcome counts and the skip-reason histogram (from raw clicks) of one smart link. ${METRICS}.` },
);
