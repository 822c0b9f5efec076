import type { Config } from '../../config/index.js';
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
}
