import type { SkippedEntry } from '../domain/click.js';
import type { CandidateTrace, KpiTrace, WeightDraw } from './decision.js';
import { evaluateTarget, ineligibleReason } from './eligibility.js';
import { scoreOf } from './kpi/metric.js';
import type { KpiLinkView } from './kpi/model.js';
import { sampleMetric } from './kpi/thompson.js';
import type { RouteScope } from './scope.js';
import type { EntryView, KpiPlan, SmartLinkView } from './snapshot.js';
import { drawIndex } from './weighted.js';

export interface EntrySelection {
  winner: EntryView | null;
  order: number[];
  candidates: CandidateTrace[];
  skipped: SkippedEntry[];
  draw: WeightDraw | null;
  kpi: KpiTrace | null;
}

const emptySelection = (kpi: KpiTrace | null = null): EntrySelection => ({
  winner: null, order: [], candidates: [], skipped: [], draw: null, kpi,
});

/**
 * Checks one entry: its candidate trace goes into the selection (unless lean), and its reason into
 * `skipped` when it is ineligible. Returns whether it is eligible.
 */
function checkEntry(scope: RouteScope, entry: EntryView, selection: EntrySelection): boolean {
  let reason: number | null;
  if (scope.lean) reason = ineligibleReason(scope, entry.target);
  else {
    const trace = evaluateTarget(scope, entry.target);
    selection.candidates.push(trace);
    reason = trace.eligible ? null : (trace.reason ?? 0);
  }
  if (reason !== null) selection.skipped.push({ entry_id: entry.id, reason });
  return reason === null;
}

/** A waterfall: the first eligible entry in the given order wins (SPEC §4.4, and KPI ranking). */
function selectInOrder(scope: RouteScope, ordered: readonly EntryView[], selection: EntrySelection): EntrySelection {
  for (const entry of ordered) {
    if (scope.lean && selection.winner !== null) break;
    if (!scope.lean) selection.order.push(entry.id);
    if (selection.winner === null) {
      if (checkEntry(scope, entry, selection)) selection.winner = entry;
    } else if (scope.traceAll) selection.candidates.push(evaluateTarget(scope, entry.target));
  }
  return selection;
}

/**
 * Weight (SPEC §4.5): every entry is checked, then one eligible entry with weight > 0 is drawn
 * with probability proportional to its weight. Filtering first and drawing once is what makes the
 * shares exact; "draw, then redraw on failure" has the same distribution but a messier trace.
 * `equalWhenAllZero` is the KPI collection phase's rule: a link whose weights are all 0 splits evenly.
 */
function selectByWeight(scope: RouteScope, link: SmartLinkView, selection: EntrySelection, equalWhenAllZero: boolean): EntrySelection {
  const equal = equalWhenAllZero && link.weightsAllZero;
  // The pool, its weights and the draw's trace are filled in the one pass over the entries, so a
  // decision walks the list once and allocates nothing per entry beyond what the trace keeps.
  const pool: EntryView[] = [];
  const weights: number[] = [];
  const drawn: WeightDraw['weights'] = [];
  for (const entry of link.entries) {
    if (!scope.lean) selection.order.push(entry.id);
    const weight = equal ? 1 : entry.routingValue;
    if (checkEntry(scope, entry, selection) && weight > 0) {
      pool.push(entry);
      weights.push(weight);
      if (!scope.lean) drawn.push({ entry_id: entry.id, weight });
    }
  }
  if (pool.length === 0) return selection;
  const { index, roll, total } = drawIndex(weights, scope.rng);
  selection.winner = pool[index] ?? null;
  if (!scope.lean) selection.draw = { weights: drawn, total_weight: total, roll };
  return selection;
}

/**
 * Thompson (SPEC §5): every entry is checked; each eligible entry draws its metric from its
 * posterior and the best score wins. Eligibility rules first, so an entry the visitor may not see
 * never wins however good its draw.
 */
function selectBySampling(scope: RouteScope, link: SmartLinkView, plan: Extract<KpiPlan, { kind: 'thompson' }>, selection: EntrySelection): EntrySelection {
  const samples = selection.kpi?.samples ?? [];
  let bestScore = -Infinity;
  for (const entry of link.entries) {
    if (!scope.lean) selection.order.push(entry.id);
    if (!checkEntry(scope, entry, selection)) continue;
    const posterior = plan.posteriors[entry.position];
    // An entry the model does not know (not possible within one epoch) is a last resort.
    const sample = posterior === undefined ? -Infinity : sampleMetric(plan.metric, posterior, scope.rng);
    const score = posterior === undefined ? -Infinity : scoreOf(sample, plan.goal);
    if (!scope.lean) samples.push({ entry_id: entry.id, sample, score });
    if (selection.winner === null || score > bestScore) {
      selection.winner = entry;
      bestScore = score;
    }
  }
  return selection;
}

function selectByKpi(scope: RouteScope, link: SmartLinkView, kpi: KpiLinkView, plan: KpiPlan): EntrySelection {
  const trace: KpiTrace = {
    phase: plan.kind === 'collecting' ? 'collecting' : 'optimising',
    // The model in force decides, which until the next run may be of the algorithm set before.
    algorithm: plan.kind === 'collecting' ? kpi.settings.algorithm : plan.kind,
    epoch: kpi.epoch,
    run_id: plan.kind === 'collecting' ? null : kpi.runId,
    samples: [],
  };
  const selection = emptySelection(trace);
  if (plan.kind === 'collecting') return selectByWeight(scope, link, selection, true);
  if (plan.kind === 'ranking') return selectInOrder(scope, plan.ordered, selection);
  return selectBySampling(scope, link, plan, selection);
}

/** Picks the winning entry of a link, or none, with the trace of how. */
export function selectEntry(scope: RouteScope, link: SmartLinkView): EntrySelection {
  if (link.routing === 'priority') return selectInOrder(scope, link.priorityOrder, emptySelection());
  if (link.kpi !== null && link.kpiPlan !== null) return selectByKpi(scope, link, link.kpi, link.kpiPlan);
  return selectByWeight(scope, link, emptySelection(), link.routing === 'kpi');
}
