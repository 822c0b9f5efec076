import type { TrackingLinkRecord } from '../domain/records.js';
import type { Store } from '../ports/store.js';

/**
 * Every tracking link by token, in memory, so a click resolves its token without a database read.
 * Filled at start and kept current by the API that mints links.
 */
export class TrackingLinkIndex {
  private readonly byToken = new Map<string, TrackingLinkRecord>();

  static async load(store: Store): Promise<TrackingLinkIndex> {
    const index = new TrackingLinkIndex();
    for (const link of await store.trackingLinks.all()) index.add(link);
    return index;
  }

  add(link: TrackingLinkRecord): void {
    this.byToken.set(link.token, link);
  }

  get(token: string): TrackingLinkRecord | undefined {
    return this.byToken.get(token);
  }

  get size(): number {
    return this.byToken.size;
  }
}
