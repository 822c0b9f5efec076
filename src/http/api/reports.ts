import type { TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../domain/errors.js';
import { ErrorBody } from '../../domain/schemas/common.js';
import { ReportAnswer, ReportQuery, SmartLinkReportAnswer, SmartLinkReportParams, SmartLinkReportQuery } from '../../domain/schemas/report.js';
import { csvStream, wantsCsv } from '../../reporting/csv.js';
import { resolveRange } from '../../reporting/report-range.js';
import { parseReportRequest, type RawReportQuery, type Viewer } from '../../reporting/report-request.js';
import { runReport } from '../../reporting/run-report.js';
import { csvTable, runSmartLinkReport } from '../../reporting/smart-link-report.js';
import type { ApiDeps } from './deps.js';
import { presentKpiRun } from './kpi-present.js';
import { found, principalOf } from './helpers.js';
import { partnerRunsLink } from './tracking-links.js';

/**
 * Hourly runs for six weeks. A line holds every entry's figures, so a longer range lists only the
 * newest this many; `GET /smart-links/:id/kpi/runs` pages through them all.
 */
const MAX_REPORT_KPI_RUNS = 1000;

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };

/** A report answers JSON, or CSV with `format=csv` or an `Accept` preferring text/csv; both are documented. */
const jsonOrCsv = (schema: TSchema) => ({
  description: 'The report',
  content: { 'application/json': { schema }, 'text/csv': { schema: { type: 'string', description: 'One header line, then one line per row' } } },
});

function viewerOf(request: FastifyRequest): Viewer {
  const principal = principalOf(request);
  return principal.role === 'admin' ? { admin: true } : { admin: false, partnerId: principal.partnerId };
}

function sendCsv(reply: FastifyReply, name: string, header: readonly string[], rows: Record<string, string | number | null>[]) {
  return reply
    .header('content-type', 'text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${name}.csv"`)
    .send(csvStream(header, rows));
}

/** `GET /reports` and `GET /smart-links/:id/report` (SPEC §11), as JSON or CSV. */
export function registerReports(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/reports', {
    schema: {
      tags: ['reports'],
      summary: 'Clicks, conversions and money grouped by any dimensions, in any time zone',
      description: 'Exact figures from rollups kept in the same transaction as raw clicks and conversions. `filter[<dimension>]=value` narrows to one value (not day/hour).',
      querystring: ReportQuery,
      response: { 200: jsonOrCsv(ReportAnswer), ...errors },
    },
    handler: async (request, reply) => {
      const query = request.query as RawReportQuery & { format?: string };
      const csv = wantsCsv(query.format, request.headers.accept);
      const parsed = parseReportRequest(query, viewerOf(request), deps.now());
      // A CSV file is the whole report unless a page is asked for: a file cut at the page size would not say so.
      const whole = csv && query.page === undefined && query.page_size === undefined;
      const report = await runReport(deps.store.reports, whole ? { ...parsed, pageSize: Number.MAX_SAFE_INTEGER } : parsed);
      if (csv) return sendCsv(reply, 'report', report.header, report.rows);
      return { rows: report.rows, totals: report.totals, page: report.page, page_size: report.pageSize, total: report.total };
    },
  });

  app.get('/smart-links/:id/report', {
    schema: {
      tags: ['reports'],
      summary: 'One smart link: entry rows, catch-all and no-match counts, skip reasons, KPI runs',
      params: SmartLinkReportParams,
      querystring: SmartLinkReportQuery,
      response: { 200: jsonOrCsv(SmartLinkReportAnswer), ...errors },
    },
    handler: async (request, reply) => {
      const viewer = viewerOf(request);
      const { id } = request.params as { id: number };
      const query = request.query as { from?: string; to?: string; timezone?: string; format?: string };
      const link = found(await deps.store.smartLinks.get(id), 'smart link');
      // Partners see their traffic on links shown to partners, and on links they hold a tracking link on.
      if (!viewer.admin && (link.status === 'deleted' || !(link.visible_to_partners || (await partnerRunsLink(deps.store, id, viewer.partnerId))))) {
        throw AppError.notFound('smart link');
      }
      const timeZone = query.timezone ?? 'UTC';
      const problems: { path: string; message: string }[] = [];
      const range = resolveRange(query.from, query.to, timeZone, deps.now(), problems);
      if (range === undefined) throw AppError.invalid(problems);
      const kpiRuns = async (from: string, to: string) => {
        const { rows } = await deps.store.kpi.listRuns({ smartLinkId: id, from, to, page: 1, pageSize: MAX_REPORT_KPI_RUNS });
        return rows.map(presentKpiRun);
      };
      const report = await runSmartLinkReport(deps.store.reports, id, range, timeZone, viewer, kpiRuns);
      if (wantsCsv(query.format, request.headers.accept)) {
        const table = csvTable(report, viewer);
        return sendCsv(reply, `smart-link-${id}`, table.header, table.rows);
      }
      return report;
    },
  });
}
