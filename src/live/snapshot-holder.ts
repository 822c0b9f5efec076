import { buildSnapshot, type Snapshot } from '../engine/index.js';
import type { Store } from '../ports/store.js';

/** The current routing snapshot, and a way to rebuild it after a configuration change. */
export interface SnapshotHolder {
  /** The latest built snapshot; synchronous, for the click path. */
  current(): Snapshot;
  /**
   * Rebuilds from the store. Calls that arrive while a build runs share one follow-up build, so a
   * burst of changes costs at most two loads, and every caller sees a snapshot read after its call.
   */
  rebuild(): Promise<Snapshot>;
  /** Waits for any pending rebuild, then returns the current snapshot (for explain: read-your-writes). */
  settled(): Promise<Snapshot>;
  /** When the current snapshot was read from the store, in epoch milliseconds. */
  builtAtMs(): number;
}

export async function loadSnapshot(store: Store): Promise<Snapshot> {
  // One read transaction, so the snapshot is a consistent cut of the configuration.
  return store.transaction(async (tx) => {
    const [advertisers, offers, offerUrls, partners, offerAccess, smartLinks, trackingDomains, settings, kpiStates] = await Promise.all([
      tx.advertisers.all(), tx.offers.all(), tx.offerUrls.all(), tx.partners.all(), tx.offerAccess.all(), tx.smartLinks.all(),
      tx.trackingDomains.all(), tx.settings.get(), tx.kpi.allStates(),
    ]);
    return buildSnapshot({ advertisers, offers, offerUrls, partners, offerAccess, smartLinks, trackingDomains, settings, kpiStates });
  });
}

/**
 * `beforeReplace` runs with each rebuilt snapshot while the previous one still serves, and the
 * rebuild waits for it; what it returns runs in the same synchronous step as the switch, so state
 * prepared for the new snapshot arrives with it and is in place when the change's request is answered.
 */
export async function createSnapshotHolder(
  store: Store,
  beforeReplace?: (previous: Snapshot, next: Snapshot) => Promise<(() => void) | undefined>,
): Promise<SnapshotHolder> {
  let snapshot = await loadSnapshot(store);
  let builtAtMs = Date.now();
  let running: Promise<Snapshot> | null = null;
  let queued: Promise<Snapshot> | null = null;

  const build = async (): Promise<Snapshot> => {
    const started = Date.now();
    const previous = snapshot;
    const next = await loadSnapshot(store);
    const switched = await beforeReplace?.(previous, next);
    snapshot = next;
    switched?.();
    builtAtMs = started;
    return snapshot;
  };
  const rebuild = (): Promise<Snapshot> => {
    if (running === null) {
      running = build().finally(() => {
        running = null;
      });
      return running;
    }
    // A build is already reading: changes committed after it started need one more.
    queued ??= running.catch(() => snapshot).then(() => {
      queued = null;
      return rebuild();
    });
    return queued;
  };
  return {
    current: () => snapshot,
    builtAtMs: () => builtAtMs,
    rebuild,
    async settled() {
      await (queued ?? running);
      return snapshot;
    },
  };
}
