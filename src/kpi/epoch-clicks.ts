import type { KpiStateRecord } from '../domain/kpi.js';
import type { KpiRepo, KpiStatsReader } from '../ports/store.js';

/** Clicks of the epoch already counted up to `from`; what is left to count starts there. */
export interface EpochClickBase {
  from: string;
  count: number;
}

/**
 * Where counting the epoch's clicks up to `until` can start. An epoch can last months, so rather
 * than count it whole each time, a run's count (up to its slot) is carried forward: the latest line
 * of the run record is either this epoch's last run or the reset that started it.
 */
export async function epochClickBase(kpi: KpiRepo, state: KpiStateRecord, until: string): Promise<EpochClickBase> {
  const { rows } = await kpi.listRuns({ smartLinkId: state.smart_link_id, page: 1, pageSize: 1 });
  const last = rows[0];
  if (last?.kind === 'run' && last.epoch === state.epoch && last.slot_at !== null && last.slot_at <= until) {
    return { from: last.slot_at, count: last.clicks_in_epoch };
  }
  return { from: state.epoch_started_at, count: 0 };
}

/**
 * The link's clicks from the epoch's start up to `until` (exclusive), but for the invalid ones: a
 * visitor turned away (link paused, partner suspended) reached no entry and taught the link nothing.
 */
export async function countEpochClicks(kpi: KpiRepo, stats: KpiStatsReader, state: KpiStateRecord, until: string): Promise<number> {
  const base = await epochClickBase(kpi, state, until);
  return base.count + (await stats.countClicks(state.smart_link_id, base.from, until));
}

/**
 * Whether the slot starting at `slotMs` is done: it has its run, or this epoch already has a run
 * for a later slot. A slot that began before the run in force (the run frequency grew, and the
 * longer frequency's current slot was missed while the server was down or the link paused) would
 * only read older traffic than that run did: it is passed over like any missed slot, not run late.
 */
export async function slotDone(kpi: KpiRepo, state: KpiStateRecord, slotMs: number): Promise<boolean> {
  if (await kpi.hasRun(state.smart_link_id, new Date(slotMs).toISOString())) return true;
  const { rows } = await kpi.listRuns({ smartLinkId: state.smart_link_id, page: 1, pageSize: 1 });
  const last = rows[0];
  return last?.kind === 'run' && last.epoch === state.epoch && last.slot_at !== null && Date.parse(last.slot_at) > slotMs;
}
