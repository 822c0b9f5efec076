import type { Config } from '../../config/index.js';
import type { ContextBuilder } from '../../context/index.js';
import type { Snapshot } from '../../engine/index.js';
import type { TrackingLinkIndex } from '../../live/tracking-link-index.js';
import type { LiveState } from '../../ports/live-state.js';
import type { Store } from '../../ports/store.js';

/** What the management API needs from the composition root. */
export interface ApiDeps {
  config: Config;
  store: Store;
  /**
   * Called after every committed configuration change; resolves once the in-memory snapshot
   * includes it, so a click right after an API write already sees that write.
   */
  onChange: () => Promise<void>;
  /** Tokens the click path resolves; minting a link adds to it. */
  trackingLinks: TrackingLinkIndex;
  /** The server's clock (tests move it): KPI epochs start and are read at its time. */
  now: () => number;
}

export interface EngineDeps {
  /** Resolves once configuration changes already committed are in the snapshot. */
  settledSnapshot: () => Promise<Snapshot>;
  contextBuilder: ContextBuilder;
  /** Counters and memory; explain only reads them. */
  live: LiveState;
  /** The default time of an explained click. */
  now: () => number;
}
