import type { Config } from '../../config/index.js';
import type { ContextBuilder } from '../../context/index.js';
import type { Snapshot, StateView } from '../../engine/index.js';
import type { TrackingLinkIndex } from '../../live/tracking-link-index.js';
import type { Store } from '../../ports/store.js';

/** What the management API needs from the composition root. */
export interface ApiDeps {
  config: Config;
  store: Store;
  /** Called after every committed configuration change, so the in-memory snapshot is rebuilt. */
  onChange: () => void;
  /** Tokens the click path resolves; minting a link adds to it. */
  trackingLinks: TrackingLinkIndex;
  /** The routing engine's inputs, for explain; without them the explain route is not offered. */
  engine?: EngineDeps;
}

export interface EngineDeps {
  /** Resolves once configuration changes already committed are in the snapshot. */
  settledSnapshot: () => Promise<Snapshot>;
  contextBuilder: ContextBuilder;
  /** Read-only counters and memory; absent = a state view with nothing reached or remembered. */
  stateView?: () => StateView;
}
