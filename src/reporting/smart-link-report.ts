import { CLICK_OUTCOMES, type ClickOutcome } from '../domain/click.js';
import type { RollupSums } from '../domain/report.js';
import type { KpiRun } from '../domain/schemas/kpi.js';
import type { ReportReader, SkipCount } from '../ports/report-reader.js';
import { addSums, columnsOf, emptySums } from './metrics.js';
import type { Viewer } from './report-request.js';
import type { ReportRange } from './report-range.js';
import { readRollups } from './rollup-plan.js';

/** Per-entry columns; partner keys get them without revenue and profit. */
export const ENTRY_COLUMNS = ['entry_id', 'offer_id', 'offer_name', 'clicks', 'unique_clicks', 'conversions', 'cvr', 'revenue', 'payout', 'profit', 'epc'] as const;
const ADMIN_ONLY = new Set(['revenue', 'profit']);

type Row = Record<string, string | number | null>;

export interface SmartLinkReport {
  smart_link_id: number;
  from: string;
  to: string;
  timezone: string;
  entries: Row[];
  /** Traffic no entry took, per outcome (`catch_all`, `fail_traffic`) and offer (null for a fail-traffic URL). */
  fallbacks: Row[];
  /** The whole link: entries, catch-all and fail traffic together. */
  totals: Record<string, number | null>;
  catch_all_clicks: number;
  no_match_clicks: number;
  /** Clicks per outcome. */
  outcomes: Record<ClickOutcome, number>;
  skip_reasons: SkipCount[];
  /** The KPI run record's lines in range, newest first (admins only; partners get none). */
  kpi_runs: KpiRun[];
}

/** The figures of a row, without its keys. */
const FIGURES = ENTRY_COLUMNS.slice(3);
const FALLBACK_OUTCOMES: ReadonlySet<string> = new Set<ClickOutcome>(['catch_all', 'fail_traffic']);

/** The columns `viewer` may see, in `columns` order. */
const visibleColumns = (columns: readonly string[], viewer: Viewer): string[] => columns.filter((c) => viewer.admin || !ADMIN_ONLY.has(c));

/** The columns `viewer` may see of `all`, in `columns` order. */
function visibleRow(columns: readonly string[], viewer: Viewer, all: Row): Row {
  return Object.fromEntries(visibleColumns(columns, viewer).map((c) => [c, all[c] ?? null]));
}

/**
 * The report as one table, for CSV: the entry rows (outcome `routed`), then the catch-all and
 * fail-traffic rows, so the file's money adds up to the link's totals as the JSON does.
 */
export function csvTable(report: SmartLinkReport, viewer: Viewer): { header: string[]; rows: Row[] } {
  const columns = ['outcome', ...ENTRY_COLUMNS];
  const rows: Row[] = [...report.entries.map((row) => ({ outcome: 'routed', ...row })), ...report.fallbacks];
  return { header: visibleColumns(columns, viewer), rows: rows.map((row) => visibleRow(columns, viewer, row)) };
}

/**
 * One smart link's report (SPEC §11): entry rows and outcome counts from the rollups; the skip
 * histogram from raw clicks, which are the only place skips are kept (one JSON array per click).
 */
export async function runSmartLinkReport(
  reader: ReportReader,
  smartLinkId: number,
  range: ReportRange,
  timeZone: string,
  viewer: Viewer,
  kpiRuns: (from: string, to: string) => Promise<KpiRun[]>,
): Promise<SmartLinkReport> {
  const from = new Date(range.fromMs).toISOString();
  const to = new Date(range.toMs).toISOString();
  const partnerId = viewer.admin ? undefined : viewer.partnerId;
  const groups = await readRollups(reader, {
    range, timeZone, time: 'none',
    groupBy: ['entry_id', 'offer_id', 'outcome'],
    filters: [{ column: 'smart_link_id', value: smartLinkId }, ...(partnerId === undefined ? [] : [{ column: 'partner_id' as const, value: partnerId }])],
  });
  const outcomes = Object.fromEntries(CLICK_OUTCOMES.map((o) => [o, 0])) as Record<ClickOutcome, number>;
  // One row per entry and offer: an entry pointed at another offer keeps its id, and the clicks it
  // sent to each offer stay under that offer.
  const entries = new Map<string, { entryId: number; offerId: number; sums: RollupSums }>();
  // Conversions of catch-all and fail-traffic clicks count here too, or the link's own report would
  // miss money the general report credits it with.
  const fallbacks = new Map<string, { outcome: string; offerId: number | null; sums: RollupSums }>();
  const totals = emptySums();
  for (const { key, sums } of groups) {
    const outcome = String(key.outcome) as ClickOutcome;
    outcomes[outcome] = (outcomes[outcome] ?? 0) + sums.clicks;
    addSums(totals, sums);
    const entryId = Number(key.entry_id);
    const offerId = Number(key.offer_id);
    if (entryId === 0) {
      if (!FALLBACK_OUTCOMES.has(outcome)) continue;
      const id = `${outcome}/${offerId}`;
      const fallback = fallbacks.get(id) ?? { outcome, offerId: offerId === 0 ? null : offerId, sums: emptySums() };
      addSums(fallback.sums, sums);
      fallbacks.set(id, fallback);
      continue;
    }
    const id = `${entryId}/${offerId}`;
    const entry = entries.get(id) ?? { entryId, offerId, sums: emptySums() };
    addSums(entry.sums, sums);
    entries.set(id, entry);
  }
  const offerIds = [...entries.values(), ...fallbacks.values()].flatMap((row) => (row.offerId === null ? [] : [row.offerId]));
  const offerNames = await reader.names('offers', [...new Set(offerIds)]);
  const nameOf = (offerId: number | null) => (offerId === null ? null : (offerNames.get(offerId) ?? null));
  const rows = [...entries.values()]
    .sort((a, b) => a.entryId - b.entryId || a.offerId - b.offerId)
    .map(({ entryId, offerId, sums }) => visibleRow(ENTRY_COLUMNS, viewer, { entry_id: entryId, offer_id: offerId, offer_name: nameOf(offerId), ...columnsOf(sums) }));
  const fallbackRows = [...fallbacks.values()]
    .sort((a, b) => a.outcome.localeCompare(b.outcome) || (a.offerId ?? 0) - (b.offerId ?? 0))
    .map(({ outcome, offerId, sums }) => visibleRow(['outcome', 'offer_id', 'offer_name', ...FIGURES], viewer, { outcome, offer_id: offerId, offer_name: nameOf(offerId), ...columnsOf(sums) }));
  const skips = await reader.skipReasons({ smartLinkId, partnerId, from, to });
  const runs = viewer.admin ? await kpiRuns(from, to) : [];
  return {
    smart_link_id: smartLinkId, from, to, timezone: timeZone, entries: rows,
    fallbacks: fallbackRows, totals: visibleRow(FIGURES, viewer, columnsOf(totals)) as Record<string, number | null>,
    catch_all_clicks: outcomes.catch_all, no_match_clicks: outcomes.no_match, outcomes, skip_reasons: skips, kpi_runs: runs,
  };
}
