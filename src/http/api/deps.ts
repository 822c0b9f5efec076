import type { Config } from '../../config/index.js';
import type { Store } from '../../ports/store.js';

/** What the management API needs from the composition root. */
export interface ApiDeps {
  config: Config;
  store: Store;
  /** Called after every committed configuration change, so the in-memory snapshot is rebuilt. */
  onChange: () => void;
}
