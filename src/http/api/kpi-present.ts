import type { KpiRunRecord } from '../../domain/kpi.js';
import type { KpiRun } from '../../domain/schemas/kpi.js';
import type { EntryPosterior, KpiModel } from '../../engine/index.js';

/** The engine's posterior in the API's snake_case. */
const presentPosterior = (p: EntryPosterior) => ({ entry_id: p.entryId, alpha: p.alpha, beta: p.beta, value_mean: p.valueMean, value_sd: p.valueSd });

export function presentKpiModel(model: KpiModel | null): KpiRun['model'] {
  if (model === null) return null;
  if (model.algorithm === 'ranking') return { algorithm: 'ranking', order: [...model.order] };
  return { algorithm: 'thompson', metric: model.metric, goal: model.goal, posteriors: model.posteriors.map(presentPosterior) };
}

/** A run-record line as the API shows it. */
export function presentKpiRun(run: KpiRunRecord): KpiRun {
  return {
    ...run,
    entries: run.entries.map((e) => ({ ...e, posterior: e.posterior === null ? null : presentPosterior(e.posterior) })),
    model: presentKpiModel(run.model),
  };
}
