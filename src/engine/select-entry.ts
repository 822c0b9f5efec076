import type { SkippedEntry } from '../domain/click.js';
import type { CandidateTrace, WeightDraw } from './decision.js';
import { evaluateTarget } from './eligibility.js';
import type { RouteScope } from './scope.js';
import type { EntryView, SmartLinkView } from './snapshot.js';
import { drawIndex } from './weighted.js';

export interface EntrySelection {
  winner: EntryView | null;
  order: number[];
  candidates: CandidateTrace[];
  skipped: SkippedEntry[];
  draw: WeightDraw | null;
}

const evaluateEntry = (scope: RouteScope, entry: EntryView): CandidateTrace =>
  evaluateTarget(scope, {
    entryId: entry.id,
    offerId: entry.offerId,
    offer: entry.offer,
    offerUrlId: entry.offerUrlId,
    entryRuleset: entry.ruleset,
    waiveApproval: false,
  });

/** Priority (SPEC §4.4): the first eligible entry in (routing value, list position) order wins. */
function selectByPriority(scope: RouteScope, link: SmartLinkView): EntrySelection {
  const selection: EntrySelection = { winner: null, order: [], candidates: [], skipped: [], draw: null };
  for (const entry of link.priorityOrder) {
    selection.order.push(entry.id);
    if (selection.winner !== null && !scope.traceAll) continue;
    const trace = evaluateEntry(scope, entry);
    selection.candidates.push(trace);
    if (selection.winner !== null) continue;
    if (trace.eligible) selection.winner = entry;
    else selection.skipped.push({ entry_id: entry.id, reason: trace.reason ?? 0 });
  }
  return selection;
}

/**
 * Weight (SPEC §4.5): every entry is checked, then one eligible entry with weight > 0 is drawn
 * with probability proportional to its weight. Filtering first and drawing once is what makes the
 * shares exact; "draw, then redraw on failure" has the same distribution but a messier trace.
 */
function selectByWeight(scope: RouteScope, link: SmartLinkView): EntrySelection {
  const selection: EntrySelection = { winner: null, order: [], candidates: [], skipped: [], draw: null };
  // The pool, its weights and the draw's trace are filled in the one pass over the entries, so a
  // decision walks the list once and allocates nothing per entry beyond what the trace keeps.
  const pool: EntryView[] = [];
  const weights: number[] = [];
  const drawn: WeightDraw['weights'] = [];
  for (const entry of link.entries) {
    selection.order.push(entry.id);
    const trace = evaluateEntry(scope, entry);
    selection.candidates.push(trace);
    if (!trace.eligible) selection.skipped.push({ entry_id: entry.id, reason: trace.reason ?? 0 });
    else if (entry.routingValue > 0) {
      pool.push(entry);
      weights.push(entry.routingValue);
      drawn.push({ entry_id: entry.id, weight: entry.routingValue });
    }
  }
  if (pool.length === 0) return selection;
  const { index, roll, total } = drawIndex(weights, scope.rng);
  selection.winner = pool[index] ?? null;
  selection.draw = { weights: drawn, total_weight: total, roll };
  return selection;
}

/** Picks the winning entry of a link, or none, with the trace of how. */
export function selectEntry(scope: RouteScope, link: SmartLinkView): EntrySelection {
  // KPI links route by weight until KPI optimisation exists (SPEC §4.6: the collection phase).
  return link.routing === 'priority' ? selectByPriority(scope, link) : selectByWeight(scope, link);
}
