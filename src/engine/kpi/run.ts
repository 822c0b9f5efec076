import { seededRng } from '../rng.js';
import { goalOf, isCountMetric, metricPerClick, scorePerClick } from './metric.js';
import type { EntryPosterior, EntryWindowStats, KpiEntryReport, KpiMetric, KpiModel, KpiRunInput, KpiRunResult } from './model.js';
import { rankEntries } from './ranking.js';
import { expectedShares, fitPosteriors, posteriorsInForce } from './thompson.js';

const MICROS = 1_000_000;
/** Monte Carlo draws behind the allocation a thompson run reports. */
const SHARE_DRAWS = 2000;
/** The run's own draws are reproducible from its input: same window, same record. */
const SHARE_SEED = 0x5eed;

const EMPTY: EntryWindowStats = { entryId: 0, clicks: 0, conversions: 0, events: 0, revenueMicros: 0, payoutMicros: 0, hours: [] };

function baseReport(input: KpiRunInput, entryId: number, stats: EntryWindowStats): KpiEntryReport {
  const metricValue = metricPerClick(input.settings.metric, stats);
  return {
    entry_id: entryId,
    clicks: stats.clicks,
    conversions: stats.conversions,
    events: stats.events,
    revenue: stats.revenueMicros / MICROS,
    payout: stats.payoutMicros / MICROS,
    effective_clicks: stats.clicks,
    metric_value: metricValue,
    score: scorePerClick(input.settings.metric, stats, input.settings.goal),
    rank: null,
    posterior: null,
    expected_share: null,
  };
}

function rankingRun(input: KpiRunInput, statsOf: Map<number, EntryWindowStats>): { model: KpiModel; entries: KpiEntryReport[]; winner: number | null } {
  const ranked = rankEntries(input.settings, input.entries, statsOf);
  const rankOf = new Map(ranked.map((row, i) => [row.entry.id, row.score === null ? null : i + 1]));
  const order = ranked.map((row) => row.entry.id);
  const entries = input.entries.map((entry) => {
    const report = baseReport(input, entry.id, statsOf.get(entry.id) ?? EMPTY);
    const rank = rankOf.get(entry.id) ?? null;
    return { ...report, rank, expected_share: rank === 1 ? 1 : 0 };
  });
  return { model: { algorithm: 'ranking', order }, entries, winner: order[0] ?? null };
}

/** The entry expected to win most clicks: the largest share, the first of equals. */
function largestShare(shares: ReadonlyMap<number, number>): number | null {
  let winner: number | null = null;
  let best = -1;
  for (const [id, share] of shares) {
    if (share > best) {
      best = share;
      winner = id;
    }
  }
  return winner;
}

/** The allocation a thompson model reports, reproducibly: the same posteriors give the same shares. */
function sharesOf(metric: KpiMetric, goal: number | null, posteriors: readonly EntryPosterior[]): Map<number, number> {
  return expectedShares(metric, goal, posteriors, seededRng(SHARE_SEED), SHARE_DRAWS);
}

/** The winner of a model, as the run that computed it reported. */
function winnerOf(model: KpiModel): number | null {
  return model.algorithm === 'ranking' ? (model.order[0] ?? null) : largestShare(sharesOf(model.metric, goalOf(model), posteriorsInForce(model)));
}

function thompsonRun(input: KpiRunInput, statsOf: Map<number, EntryWindowStats>): { model: KpiModel; entries: KpiEntryReport[]; winner: number | null } {
  const { metric, goal } = input.settings;
  const { posteriors, effective } = fitPosteriors(input);
  const shares = sharesOf(metric, goal, posteriors);
  const winner = largestShare(shares);
  const posteriorOf = new Map(posteriors.map((p) => [p.entryId, p]));
  const entries = input.entries.map((entry) => ({
    ...baseReport(input, entry.id, statsOf.get(entry.id) ?? EMPTY),
    effective_clicks: effective.get(entry.id) ?? 0,
    posterior: posteriorOf.get(entry.id) ?? null,
    expected_share: shares.get(entry.id) ?? 0,
  }));
  const model: KpiModel = {
    algorithm: 'thompson', metric, goal, posteriors,
    ...(input.earlier === null ? {} : { earlier: input.earlier.outcomes }),
    ...(isCountMetric(metric) ? { rate_posterior: 'gamma' as const } : {}),
  };
  return { model, entries, winner };
}

/**
 * What a run does with its input: `collect` while the epoch has fewer clicks than the collection
 * threshold and no model yet (weight routing), `keep` what is in force when the window holds no clicks
 * (nothing new was learnt), otherwise `compute` a new model. The scheduler asks it before reading
 * what only a computed model needs.
 *
 * Before the first model, what is in force is weight routing, and an empty window keeps it (a
 * threshold of 0, or a link idle since its threshold was reached): a ranking of no data would put
 * one entry first by its list order, and it would never lose that place, because the others would
 * never get a click to be scored on.
 */
export function runStep(input: Pick<KpiRunInput, 'settings' | 'clicksInEpoch' | 'stats' | 'previous'>): 'collect' | 'keep' | 'compute' {
  // The threshold gates the epoch's first model only: raising it on an optimising link is no reset,
  // and must not send the link back to weight routing at its next run.
  if (input.previous === null && input.clicksInEpoch < input.settings.collectionThreshold) return 'collect';
  if (input.stats.every((s) => s.clicks === 0)) return input.previous === null ? 'collect' : 'keep';
  return 'compute';
}

/**
 * One KPI run (SPEC §5): from the window's per-entry traffic to the model clicks are routed with
 * next. Pure and deterministic, so the scheduler, explain and the simulator share it.
 * - Until the epoch has as many clicks as the collection threshold there is no model (weight routing);
 *   once it has one, a raised threshold does not take it away.
 * - A window without clicks keeps what is in force, the previous model or weight routing: nothing
 *   new was learnt.
 * - `ranking` orders entries by their metric per click (winner first, a fallback waterfall);
 *   `thompson` fits per-entry posteriors that each click samples from.
 */
export function runKpi(input: KpiRunInput): KpiRunResult {
  const statsOf = new Map(input.stats.map((s) => [s.entryId, s]));
  const step = runStep(input);
  if (step === 'collect') {
    const entries = input.entries.map((entry) => baseReport(input, entry.id, statsOf.get(entry.id) ?? EMPTY));
    return { phase: 'collecting', model: null, keptPrevious: false, entries, winnerEntryId: null };
  }
  if (step === 'keep' && input.previous !== null) {
    const entries = input.entries.map((entry) => baseReport(input, entry.id, EMPTY));
    return { phase: 'optimising', model: input.previous, keptPrevious: true, entries, winnerEntryId: winnerOf(input.previous) };
  }
  const run = input.settings.algorithm === 'ranking' ? rankingRun(input, statsOf) : thompsonRun(input, statsOf);
  return { phase: 'optimising', model: run.model, keptPrevious: false, entries: run.entries, winnerEntryId: run.winner };
}
