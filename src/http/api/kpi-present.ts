import type { KpiRunRecord } from '../../domain/kpi.js';
import type { KpiRun } from '../../domain/schemas/kpi.js';
import { goalOf, posteriorsInForce, type EntryPosterior, type KpiModel } from '../../engine/index.js';

/** The engine's posterior in the API's snake_case. */
const presentPosterior = (p: EntryPosterior) => ({ entry_id: p.entryId, alpha: p.alpha, beta: p.beta, value_mean: p.valueMean, value_sd: p.valueSd });

/**
 * A model as clicks are routed with it: one stored by an earlier version is read the way routing
 * reads it (an evr model of Beta posteriors as the Gamma posteriors the API documents, a goal of 0
 * as no goal), so the numbers shown are the ones in force.
 */
export function presentKpiModel(model: KpiModel | null): KpiRun['model'] {
  if (model === null) return null;
  if (model.algorithm === 'ranking') return { algorithm: 'ranking', order: [...model.order] };
  return { algorithm: 'thompson', metric: model.metric, goal: goalOf(model), posteriors: posteriorsInForce(model).map(presentPosterior) };
}

/** A run-record line as the API shows it; a computed run's posteriors are its model's, read as that model is. */
export function presentKpiRun(run: KpiRunRecord): KpiRun {
  const model = run.model?.algorithm === 'thompson' && !run.kept_previous ? run.model : null;
  const inForce = new Map((model === null ? [] : posteriorsInForce(model)).map((p) => [p.entryId, p]));
  return {
    ...run,
    entries: run.entries.map((e) => ({ ...e, posterior: e.posterior === null ? null : presentPosterior(inForce.get(e.entry_id) ?? e.posterior) })),
    model: presentKpiModel(run.model),
  };
}
