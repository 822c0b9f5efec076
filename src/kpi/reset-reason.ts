import type { KpiResetReason } from '../domain/kpi.js';
import type { SmartLinkRecord } from '../domain/records.js';
import { goalOf } from '../engine/index.js';

type LinkFacts = Pick<SmartLinkRecord, 'routing' | 'kpi' | 'entries'>;

/** An entry's identity for optimisation: the same id still sending to the same offer and URL. */
const entryKey = (e: SmartLinkRecord['entries'][number]) => `${e.id}:${e.offer_id}:${e.offer_url_id ?? ''}`;

function sameEntries(a: LinkFacts['entries'], b: LinkFacts['entries']): boolean {
  if (a.length !== b.length) return false;
  const keys = new Set(a.map(entryKey));
  return b.every((e) => keys.has(entryKey(e)));
}

/**
 * Why a write to a smart link starts a new KPI epoch, or null when it keeps the current one
 * (SPEC §5, research §6.3 step 5). Adding or removing an entry, pointing an entry at another offer
 * or offer URL, or changing the metric or the goal makes earlier data meaningless; weights,
 * rulesets, status and the other settings do not. An entry sent without its id is a new entry.
 * Only links that route by KPI have epochs; turning KPI routing on starts one.
 */
export function kpiResetReason(before: LinkFacts | undefined, after: LinkFacts): KpiResetReason | null {
  if (after.routing !== 'kpi' || after.kpi === null) return null;
  if (before === undefined) return 'created';
  if (before.routing !== 'kpi' || before.kpi === null) return 'routing_changed';
  if (!sameEntries(before.entries, after.entries)) return 'entries_changed';
  if (before.kpi.metric !== after.kpi.metric) return 'metric_changed';
  if (goalOf(before.kpi) !== goalOf(after.kpi)) return 'goal_changed';
  return null;
}
