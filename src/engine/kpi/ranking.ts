import { byPriority } from '../priority.js';
import { metricPerClick, scorePerClick } from './metric.js';
import type { EntryWindowStats, KpiEntryRef, KpiSettingsView } from './model.js';

export interface RankedEntry {
  readonly entry: KpiEntryRef;
  readonly clicks: number;
  readonly metricValue: number | null;
  readonly score: number | null;
}


/**
 * The reference platform's run (research §6.3): entries with clicks in the window are ranked by
 * score, ties going to more clicks, then priority; entries without clicks follow in priority order.
 */
export function rankEntries(
  settings: KpiSettingsView,
  entries: readonly KpiEntryRef[],
  statsOf: ReadonlyMap<number, EntryWindowStats>,
): RankedEntry[] {
  const rows = entries.map((entry): RankedEntry => {
    const stats = statsOf.get(entry.id);
    const metricValue = stats ? metricPerClick(settings.metric, stats) : null;
    return { entry, clicks: stats?.clicks ?? 0, metricValue, score: stats ? scorePerClick(settings.metric, stats, settings.goal) : null };
  });
  const scored = rows.filter((r) => r.score !== null);
  const unscored = rows.filter((r) => r.score === null);
  scored.sort((a, b) => (b.score ?? 0) - (a.score ?? 0) || b.clicks - a.clicks || byPriority(a.entry, b.entry));
  unscored.sort((a, b) => byPriority(a.entry, b.entry));
  return [...scored, ...unscored];
}
