import type { ClickContext } from './context.js';
import type { MatchInput } from './match-input.js';
import type { Rng } from './rng.js';
import type { Snapshot } from './snapshot.js';
import type { StateView } from './state-view.js';

/** Everything one decision reads, bundled so the pipeline's functions take one argument for it. */
export interface RouteScope {
  readonly snapshot: Snapshot;
  readonly partnerId: number;
  readonly ctx: ClickContext;
  readonly input: MatchInput;
  readonly state: StateView;
  readonly rng: Rng;
  /** Evaluate every entry even after the winner is known (explain); the winner is the same. */
  readonly traceAll: boolean;
  /** Build no per-entry trace (order, candidates, draw weights, samples); see DecideOptions.lean. */
  readonly lean: boolean;
}
