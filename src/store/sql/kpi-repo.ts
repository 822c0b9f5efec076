import { sql, type RawBuilder } from 'kysely';
import type { KpiRunRecord, KpiStateRecord } from '../../domain/kpi.js';
import type { KpiRepo, KpiResetLine } from '../../ports/store.js';
import type { Executor } from './dialect.js';

interface StateRow {
  smart_link_id: number | string;
  epoch: number | string;
  epoch_started_at: string;
  model: string | null;
  model_run_id: number | string | null;
  last_run_at: string | null;
}

interface RunRow {
  id: number | string;
  smart_link_id: number | string;
  epoch: number | string;
  kind: string;
  run_at: string;
  slot_at: string | null;
  data: string;
}

/** The part of a run-record line kept as one JSON document: nothing is filtered or indexed on it. */
type RunData = Omit<KpiRunRecord, 'id' | 'smart_link_id' | 'epoch' | 'kind' | 'run_at' | 'slot_at'>;

const stateFromRow = (row: StateRow): KpiStateRecord => ({
  smart_link_id: Number(row.smart_link_id),
  epoch: Number(row.epoch),
  epoch_started_at: row.epoch_started_at,
  model: row.model === null ? null : (JSON.parse(row.model) as KpiStateRecord['model']),
  model_run_id: row.model_run_id === null ? null : Number(row.model_run_id),
  last_run_at: row.last_run_at,
});

// Only this module writes `data`, always a RunData; the cast restores what JSON text lost.
const runFromRow = (row: RunRow): KpiRunRecord => ({
  id: Number(row.id),
  smart_link_id: Number(row.smart_link_id),
  epoch: Number(row.epoch),
  kind: row.kind as KpiRunRecord['kind'],
  run_at: row.run_at,
  slot_at: row.slot_at,
  ...(JSON.parse(row.data) as RunData),
});

function dataOf(run: Omit<KpiRunRecord, 'id'>): string {
  const { smart_link_id: _link, epoch: _epoch, kind: _kind, run_at: _at, slot_at: _slot, ...data } = run;
  return JSON.stringify(data satisfies RunData);
}

async function insertLine(db: Executor, run: Omit<KpiRunRecord, 'id'>): Promise<number | null> {
  // A second run for the same link and slot hits the unique index and is dropped: the fence.
  const { rows } = await sql<{ id: number | string }>`insert into kpi_runs (smart_link_id, epoch, kind, run_at, slot_at, data)
    values (${run.smart_link_id}, ${run.epoch}, ${run.kind}, ${run.run_at}, ${run.slot_at}, ${dataOf(run)})
    on conflict (smart_link_id, slot_at) do nothing returning id`.execute(db);
  return rows[0] === undefined ? null : Number(rows[0].id);
}

export function kpiRepo(db: Executor): KpiRepo {
  return {
    async getState(smartLinkId) {
      const { rows } = await sql<StateRow>`select * from kpi_state where smart_link_id = ${smartLinkId}`.execute(db);
      return rows[0] ? stateFromRow(rows[0]) : undefined;
    },
    async allStates() {
      const { rows } = await sql<StateRow>`select * from kpi_state order by smart_link_id`.execute(db);
      return rows.map(stateFromRow);
    },
    async reset(line: KpiResetLine) {
      const { rows } = await sql<StateRow>`insert into kpi_state (smart_link_id, epoch, epoch_started_at, model, model_run_id, last_run_at)
        values (${line.smartLinkId}, 1, ${line.at}, null, null, null)
        on conflict (smart_link_id) do update set epoch = kpi_state.epoch + 1, epoch_started_at = excluded.epoch_started_at,
          model = null, model_run_id = null
        returning *`.execute(db);
      const state = stateFromRow(rows[0] as StateRow);
      await insertLine(db, {
        smart_link_id: line.smartLinkId, epoch: state.epoch, kind: 'reset', run_at: line.at, slot_at: null,
        window_from: null, window_to: null, algorithm: line.algorithm, metric: line.metric, goal: line.goal, phase: null,
        clicks_in_epoch: 0, kept_previous: false, entries: [], model: null, winner_entry_id: null, previous_winner_entry_id: null,
        reset_reason: line.reason,
      });
      return state;
    },
    async getRun(id) {
      const { rows } = await sql<RunRow>`select * from kpi_runs where id = ${id}`.execute(db);
      return rows[0] ? runFromRow(rows[0]) : undefined;
    },
    async hasRun(smartLinkId, slotAt) {
      const { rows } = await sql`select 1 as found from kpi_runs where smart_link_id = ${smartLinkId} and slot_at = ${slotAt}`.execute(db);
      return rows.length > 0;
    },
    async appendRun({ run, keptModelRunId }) {
      // A later slot of this epoch already ran (a process held up past its lease while another took
      // over and ran the next slot): this older run would put an older model back in force, and is
      // passed over like any missed slot.
      const { rows: later } = await sql`select 1 as found from kpi_runs where smart_link_id = ${run.smart_link_id}
        and epoch = ${run.epoch} and kind = 'run' and slot_at > ${run.slot_at} limit 1`.execute(db);
      if (later.length > 0) return null;
      const id = await insertLine(db, run);
      if (id === null) return null;
      const modelRunId = run.model === null ? null : (keptModelRunId ?? id);
      const model = run.model === null ? null : JSON.stringify(run.model);
      // The model goes in force only for the epoch it was computed in: a reset committed meanwhile wins.
      const updated = await sql`update kpi_state set model = ${model}, model_run_id = ${modelRunId}, last_run_at = ${run.run_at}
        where smart_link_id = ${run.smart_link_id} and epoch = ${run.epoch}`.execute(db);
      if (Number(updated.numAffectedRows ?? 0) === 0) {
        await sql`delete from kpi_runs where id = ${id}`.execute(db);
        return null;
      }
      return { id, ...run };
    },
    async listRuns({ smartLinkId, from, to, page, pageSize }) {
      const conditions: RawBuilder<unknown>[] = [sql`smart_link_id = ${smartLinkId}`];
      // ISO 8601 UTC text of one shape: text order is time order.
      if (from !== undefined) conditions.push(sql`run_at >= ${from}`);
      if (to !== undefined) conditions.push(sql`run_at < ${to}`);
      const where = sql.join(conditions, sql` and `);
      const { rows } = await sql<RunRow>`select * from kpi_runs where ${where}
        order by run_at desc, id desc limit ${pageSize} offset ${(page - 1) * pageSize}`.execute(db);
      const counted = await sql<{ total: number | string }>`select count(*) as total from kpi_runs where ${where}`.execute(db);
      return { rows: rows.map(runFromRow), total: Number(counted.rows[0]?.total ?? 0) };
    },
    async acquireLease(name, holder, nowMs, expiresAtMs) {
      // One statement, so two processes racing for an expired lease cannot both win it.
      const { rows } = await sql<{ holder: string }>`insert into leases (name, holder, expires_at_ms)
        values (${name}, ${holder}, ${expiresAtMs})
        on conflict (name) do update set holder = excluded.holder, expires_at_ms = excluded.expires_at_ms
          where leases.expires_at_ms <= ${nowMs} or leases.holder = ${holder}
        returning holder`.execute(db);
      return rows[0]?.holder === holder;
    },
    async releaseLease(name, holder) {
      await sql`update leases set expires_at_ms = 0 where name = ${name} and holder = ${holder}`.execute(db);
    },
  };
}
