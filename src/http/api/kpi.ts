import type { FastifyInstance } from 'fastify';
import { AppError } from '../../domain/errors.js';
import type { KpiStateRecord } from '../../domain/kpi.js';
import type { SmartLinkRecord } from '../../domain/records.js';
import { ErrorBody, IdParams, Page } from '../../domain/schemas/common.js';
import { KpiRun, KpiRunsQuery, KpiStatus } from '../../domain/schemas/kpi.js';
import { kpiSettingsView } from '../../engine/index.js';
import { countEpochClicks, nextRunAtMs, slotDone, slotStartMs } from '../../kpi/index.js';
import type { StoreTx } from '../../ports/store.js';
import { ADMIN_ONLY, requireAdmin } from '../auth.js';
import type { ApiDeps } from './deps.js';
import { found, pageOf, principalOf } from './helpers.js';
import { presentKpiModel, presentKpiRun } from './kpi-present.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };
const tags = ['smart links'];
const iso = (ms: number) => new Date(ms).toISOString();

/** A live smart link that routes by KPI: 404 when unknown or deleted, 409 when it routes otherwise. */
async function kpiLink(tx: StoreTx, id: number): Promise<SmartLinkRecord & { kpi: NonNullable<SmartLinkRecord['kpi']> }> {
  const link = found(await tx.smartLinks.get(id), 'smart link');
  if (link.status === 'deleted') throw AppError.notFound('smart link');
  const { kpi } = link;
  if (link.routing !== 'kpi' || kpi === null) throw new AppError('conflict', `smart link ${id} routes by ${link.routing}, not by KPI`);
  return { ...link, kpi };
}

async function statusOf(tx: StoreTx, link: SmartLinkRecord & { kpi: NonNullable<SmartLinkRecord['kpi']> }, state: KpiStateRecord | undefined, nowMs: number): Promise<KpiStatus> {
  const settings = kpiSettingsView(link.kpi);
  const epochStartedMs = state === undefined ? nowMs : Date.parse(state.epoch_started_at);
  const slotMs = slotStartMs(nowMs, settings.runFrequencyHours);
  const slotHasRun = state !== undefined && (await slotDone(tx.kpi, state, slotMs));
  // Clicks up to and including this millisecond.
  const clicks = state === undefined ? 0 : await countEpochClicks(tx.kpi, tx.kpiStats, state, iso(nowMs + 1));
  return {
    smart_link_id: link.id,
    settings: {
      metric: settings.metric,
      goal: settings.goal,
      run_frequency_hours: settings.runFrequencyHours,
      lookback_hours: settings.lookbackHours,
      collection_threshold: settings.collectionThreshold,
      algorithm: settings.algorithm,
    },
    epoch: state?.epoch ?? 0,
    epoch_started_at: state?.epoch_started_at ?? null,
    phase: state?.model ? 'optimising' : 'collecting',
    clicks_in_epoch: clicks,
    model: presentKpiModel(state?.model ?? null),
    model_run_id: state?.model_run_id ?? null,
    last_run_at: state?.last_run_at ?? null,
    next_run_at: link.status === 'active' ? iso(nextRunAtMs(nowMs, settings.runFrequencyHours, epochStartedMs, slotHasRun)) : null,
  };
}

/** KPI optimisation of one smart link (SPEC §5): its state, its run record and a manual reset. Admin only. */
export function registerKpi(app: FastifyInstance, deps: ApiDeps): void {
  const { store, now } = deps;

  app.get('/smart-links/:id/kpi', {
    schema: {
      tags,
      summary: 'KPI optimisation state: epoch, phase, the model in force and the next run',
      params: IdParams,
      response: { 200: KpiStatus, ...errors },
    },
    config: ADMIN_ONLY,
    handler: async (request) => {
      requireAdmin(principalOf(request));
      const { id } = request.params as { id: number };
      const link = await kpiLink(store, id);
      return statusOf(store, link, await store.kpi.getState(id), now());
    },
  });

  app.post('/smart-links/:id/kpi/reset', {
    schema: {
      tags,
      summary: 'Reset KPI optimisation: a new epoch starts, earlier data is ignored and clicks are split by weight until the threshold',
      params: IdParams,
      response: { 200: KpiStatus, ...errors },
    },
    config: ADMIN_ONLY,
    handler: async (request) => {
      requireAdmin(principalOf(request));
      const { id } = request.params as { id: number };
      const nowMs = now();
      const status = await store.transaction(async (tx) => {
        const link = await kpiLink(tx, id);
        const { algorithm, metric, goal } = kpiSettingsView(link.kpi);
        const state = await tx.kpi.reset({ smartLinkId: id, reason: 'manual', at: iso(nowMs), algorithm, metric, goal });
        return statusOf(tx, link, state, nowMs);
      });
      await deps.onChange();
      return status;
    },
  });

  app.get('/smart-links/:id/kpi/runs', {
    schema: {
      tags,
      summary: 'The KPI run record, newest first: scheduled runs with per-entry stats and the new allocation, and resets',
      params: IdParams,
      querystring: KpiRunsQuery,
      response: { 200: Page(KpiRun), ...errors },
    },
    config: ADMIN_ONLY,
    handler: async (request) => {
      requireAdmin(principalOf(request));
      const { id } = request.params as { id: number };
      const query = request.query as KpiRunsQuery & { page: number; page_size: number };
      found(await store.smartLinks.get(id), 'smart link');
      const result = await store.kpi.listRuns({
        smartLinkId: id,
        // Stored times are UTC ISO text; a bound with an offset is compared in that same form.
        from: query.from === undefined ? undefined : iso(Date.parse(query.from)),
        to: query.to === undefined ? undefined : iso(Date.parse(query.to)),
        page: query.page,
        pageSize: query.page_size,
      });
      return pageOf({ rows: result.rows.map(presentKpiRun), total: result.total }, query.page, query.page_size);
    },
  });
}
