import { randomBytes } from 'node:crypto';
import type { KpiRunRecord, KpiStateRecord } from '../domain/kpi.js';
import type { SmartLinkRecord } from '../domain/records.js';
import { kpiSettingsView, runKpi, type KpiEntryRef } from '../engine/index.js';
import type { SnapshotHolder } from '../live/snapshot-holder.js';
import type { Store } from '../ports/store.js';
import { readRunInput, runRecordOf, type RunSubject } from './run-input.js';
import { slotDone } from './epoch-clicks.js';
import { dueSlotMs } from './slots.js';

/** The lease that names the process running KPI ticks. */
export const KPI_LEASE = 'kpi-scheduler';
/** A leader that stops renewing (crashed, hung) is replaced after this many intervals, or 30 s. */
const LEASE_INTERVALS = 3;
const MIN_LEASE_MS = 30_000;

export interface SchedulerLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface KpiSchedulerOptions {
  store: Store;
  snapshots: SnapshotHolder;
  /** The server's clock: slots, windows, leases and run times all follow it. */
  now: () => number;
  intervalMs: number;
  log: SchedulerLog;
}

/** What one tick did, for tests and logs. */
export interface TickReport {
  /** This process held the lease and looked for due runs. */
  leader: boolean;
  /** Runs this process stored. */
  runs: KpiRunRecord[];
  /** The snapshot was rebuilt (a run or reset here, or states changed by another process). */
  rebuilt: boolean;
}

const entryRefs = (link: SmartLinkRecord): KpiEntryRef[] =>
  link.entries.map((entry, position) => ({ id: entry.id, routingValue: entry.routing_value, position }));

/**
 * Runs KPI optimisation on schedule (SPEC §5): an adapter around the pure `runKpi`. Each tick the
 * lease holder runs every active KPI link whose current slot has no run yet; every process then
 * rebuilds its snapshot if the stored models differ from the ones it routes with. See README.md.
 */
export class KpiScheduler {
  private readonly holder = randomBytes(8).toString('hex');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<TickReport> | null = null;

  constructor(private readonly options: KpiSchedulerOptions) {}

  start(): void {
    this.timer = setInterval(() => {
      // A tick still running (a slow database) is not stacked on.
      if (this.running === null) void this.tick().catch((err: unknown) => this.options.log.error({ err }, 'KPI scheduler tick failed'));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  /** One tick, now; concurrent calls share the tick in progress. */
  tick(): Promise<TickReport> {
    this.running ??= this.runTick().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Stops ticking, waits for a tick in progress and hands the lease back. */
  async close(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
    await this.options.store.kpi.releaseLease(KPI_LEASE, this.holder).catch(() => undefined);
  }

  private async runTick(): Promise<TickReport> {
    const { store, snapshots, now, intervalMs } = this.options;
    const nowMs = now();
    const leaseMs = Math.max(LEASE_INTERVALS * intervalMs, MIN_LEASE_MS);
    const leader = await store.kpi.acquireLease(KPI_LEASE, this.holder, nowMs, nowMs + leaseMs);
    const runs: KpiRunRecord[] = [];
    let changed = false;
    if (leader) {
      const states = await store.kpi.allStates();
      const links = await this.kpiLinks(states);
      const stateOf = new Map(states.map((s) => [s.smart_link_id, s]));
      for (const link of links) {
        try {
          const outcome = await this.runLink(link, stateOf.get(link.id), nowMs);
          if (outcome.changed) changed = true;
          if (outcome.run) runs.push(outcome.run);
        } catch (err) {
          // One link's failure (e.g. a busy database) must not hold back the others; its slot is retried next tick.
          this.options.log.error({ err, smart_link_id: link.id }, 'KPI run failed');
        }
      }
    }
    if (!changed) changed = await this.snapshotIsStale();
    if (changed) await snapshots.rebuild();
    return { leader, runs, rebuilt: changed };
  }

  /**
   * The stored documents of the links that may route by KPI: every link with a KPI state (the edit
   * that makes a link KPI stores its state in the same transaction, so this follows the store, not
   * this process's snapshot, which may not have seen another process's edit yet), and the links the
   * snapshot routes by KPI (one stored before epochs existed has no state until its first tick).
   * Reading every link instead cost the event loop ~21 ms per tick with 1,000 links of 20 entries
   * (JSON parsed on the main thread's connection), a stall every click in flight waited out.
   */
  private async kpiLinks(states: readonly KpiStateRecord[]): Promise<SmartLinkRecord[]> {
    const ids = new Set(states.map((state) => state.smart_link_id));
    for (const link of this.options.snapshots.current().smartLinks.values()) if (link.routing === 'kpi') ids.add(link.id);
    const links = await Promise.all([...ids].map((id) => this.options.store.smartLinks.get(id)));
    return links.filter((link): link is SmartLinkRecord => link !== undefined);
  }

  private async runLink(link: SmartLinkRecord, known: KpiStateRecord | undefined, nowMs: number): Promise<{ changed: boolean; run?: KpiRunRecord }> {
    if (link.routing !== 'kpi' || link.kpi === null || link.status !== 'active') return { changed: false };
    const { store } = this.options;
    const settings = kpiSettingsView(link.kpi);
    let state = known;
    let changed = false;
    if (state === undefined) {
      // A KPI link stored before epochs existed: its first epoch starts now.
      const at = new Date(nowMs).toISOString();
      state = await store.transaction((tx) =>
        tx.kpi.reset({ smartLinkId: link.id, reason: 'created', at, algorithm: settings.algorithm, metric: settings.metric, goal: settings.goal }),
      );
      changed = true;
    }
    const slotMs = dueSlotMs(nowMs, settings.runFrequencyHours, Date.parse(state.epoch_started_at));
    if (slotMs === null || (await slotDone(store.kpi, state, slotMs))) return { changed };
    const subject: RunSubject = { smartLinkId: link.id, settings, entries: entryRefs(link), state, slotMs, nowMs };
    const prepared = await readRunInput(store, subject);
    const result = runKpi(prepared.input);
    const previousRun = state.model_run_id === null ? undefined : await store.kpi.getRun(state.model_run_id);
    const record = runRecordOf(subject, prepared, result, previousRun?.winner_entry_id ?? null);
    const keptModelRunId = result.keptPrevious ? state.model_run_id : null;
    const stored = await store.transaction((tx) => tx.kpi.appendRun({ run: record, keptModelRunId }));
    if (stored === null) return { changed };
    this.options.log.info(
      { smart_link_id: link.id, kpi_run_id: stored.id, slot_at: stored.slot_at, phase: stored.phase, winner_entry_id: stored.winner_entry_id },
      'KPI run stored',
    );
    return { changed: true, run: stored };
  }

  /** Whether the stored epochs or models differ from the snapshot's (another process ran or reset). */
  private async snapshotIsStale(): Promise<boolean> {
    const snapshot = this.options.snapshots.current();
    const states = await this.options.store.kpi.allStates();
    return states.some((state) => {
      const view = snapshot.smartLinks.get(state.smart_link_id)?.kpi;
      return view != null && (view.epoch !== state.epoch || view.runId !== state.model_run_id);
    });
  }
}
