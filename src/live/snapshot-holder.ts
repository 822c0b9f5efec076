import type {
  AdvertiserRecord, Meta, OfferAccessRecord, OfferRecord, OfferUrlRecord, PartnerRecord, SmartLinkRecord, TrackingDomainRecord,
} from '../domain/records.js';
import { buildSnapshot, createSnapshotMemo, type Snapshot, type SnapshotMemo } from '../engine/index.js';
import type { RecordStamp, Store, StoreTx } from '../ports/store.js';

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

type Stamp = Pick<Meta, 'version' | 'updated_at'>;

/** A record as loaded, with its stamp beside it (read from one shape, not from records of many). */
interface Loaded<R> {
  readonly record: R;
  readonly version: number;
  readonly updatedAt: string;
}

/** More changed rows than this in a table, and it is read whole rather than row by row. */
const ROW_BY_ROW_MAX = 64;

/**
 * A table's records by key, in the store's order. With the previous load's records, each unchanged
 * one (same key, same stamp) is that very object, and only changed rows are read and parsed: the
 * build then reuses what it compiled from the others (SnapshotMemo).
 */
async function refreshed<R extends Stamp, S extends Stamp>(
  previous: ReadonlyMap<string, Loaded<R>> | undefined,
  keyOf: (row: R | S) => string,
  read: { all(): Promise<R[]>; stamps(): Promise<S[]>; one(stamp: S): Promise<R | undefined> },
): Promise<Map<string, Loaded<R>>> {
  const unchanged = (key: string, stamp: Stamp): Loaded<R> | undefined => {
    const loaded = previous?.get(key);
    return loaded !== undefined && loaded.version === stamp.version && loaded.updatedAt === stamp.updated_at ? loaded : undefined;
  };
  const fresh = (record: R): Loaded<R> => ({ record, version: record.version, updatedAt: record.updated_at });
  const next = new Map<string, Loaded<R>>();
  const stamps = previous === undefined ? null : await read.stamps();
  if (stamps === null || stamps.filter((stamp) => unchanged(keyOf(stamp), stamp) === undefined).length > ROW_BY_ROW_MAX) {
    for (const record of await read.all()) next.set(keyOf(record), unchanged(keyOf(record), record) ?? fresh(record));
    return next;
  }
  for (const stamp of stamps) {
    const key = keyOf(stamp);
    const kept = unchanged(key, stamp);
    if (kept !== undefined) {
      next.set(key, kept);
      continue;
    }
    const record = await read.one(stamp);
    if (record !== undefined) next.set(key, fresh(record));
  }
  return next;
}

interface LoadedRecords {
  advertisers: Map<string, Loaded<AdvertiserRecord>>;
  offers: Map<string, Loaded<OfferRecord>>;
  offerUrls: Map<string, Loaded<OfferUrlRecord>>;
  partners: Map<string, Loaded<PartnerRecord>>;
  smartLinks: Map<string, Loaded<SmartLinkRecord>>;
  trackingDomains: Map<string, Loaded<TrackingDomainRecord>>;
  offerAccess: Map<string, Loaded<OfferAccessRecord>>;
}

/** The configuration records of the last load, and the views built from them. */
export interface SnapshotCache {
  records?: LoadedRecords;
  readonly memo: SnapshotMemo;
}

export function createSnapshotCache(): SnapshotCache {
  return { memo: createSnapshotMemo() };
}

async function loadRecords(tx: StoreTx, previous: LoadedRecords | undefined): Promise<LoadedRecords> {
  const documents = <R extends Meta>(repo: { all(): Promise<R[]>; stamps(): Promise<RecordStamp[]>; get(id: number): Promise<R | undefined> }, before: ReadonlyMap<string, Loaded<R>> | undefined) =>
    refreshed(before, (row) => String(row.id), { all: () => repo.all(), stamps: () => repo.stamps(), one: (stamp) => repo.get(stamp.id) });
  const accessKey = (row: Pick<OfferAccessRecord, 'offer_id' | 'partner_id'>) => `${row.offer_id}:${row.partner_id}`;
  return {
    advertisers: await documents(tx.advertisers, previous?.advertisers),
    offers: await documents(tx.offers, previous?.offers),
    offerUrls: await documents(tx.offerUrls, previous?.offerUrls),
    partners: await documents(tx.partners, previous?.partners),
    smartLinks: await documents(tx.smartLinks, previous?.smartLinks),
    trackingDomains: await documents(tx.trackingDomains, previous?.trackingDomains),
    offerAccess: await refreshed(previous?.offerAccess, accessKey, {
      all: () => tx.offerAccess.all(),
      stamps: () => tx.offerAccess.stamps(),
      one: (stamp) => tx.offerAccess.get(stamp.offer_id, stamp.partner_id),
    }),
  };
}

/**
 * Reads the configuration and builds its snapshot. With a cache, rows unchanged since the cache's
 * last load are neither read nor compiled again, so a small change costs little however large the
 * catalogue: the build runs on the event loop, and so holds up every click while it runs.
 */
export async function loadSnapshot(store: Store, cache?: SnapshotCache): Promise<Snapshot> {
  // One read transaction, so the snapshot is a consistent cut of the configuration.
  return store.transaction(async (tx) => {
    const records = await loadRecords(tx, cache?.records);
    const [settings, kpiStates] = await Promise.all([tx.settings.get(), tx.kpi.allStates()]);
    const values = <R>(map: ReadonlyMap<string, Loaded<R>>) => Array.from(map.values(), (loaded) => loaded.record);
    const snapshot = buildSnapshot({
      advertisers: values(records.advertisers), offers: values(records.offers), offerUrls: values(records.offerUrls),
      partners: values(records.partners), offerAccess: values(records.offerAccess), smartLinks: values(records.smartLinks),
      trackingDomains: values(records.trackingDomains), settings, kpiStates,
    }, cache?.memo);
    // Records are kept by stamp, so they are right for the next load whether or not this snapshot is used.
    if (cache) cache.records = records;
    return snapshot;
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
  const cache = createSnapshotCache();
  let snapshot = await loadSnapshot(store, cache);
  let builtAtMs = Date.now();
  let running: Promise<Snapshot> | null = null;
  let queued: Promise<Snapshot> | null = null;

  const build = async (): Promise<Snapshot> => {
    const started = Date.now();
    const previous = snapshot;
    const next = await loadSnapshot(store, cache);
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
