/** What the priority order of SPEC §4.4 reads from an entry. */
export interface Prioritised {
  readonly routingValue: number;
  /** Position in the link's entry list: the tie-breaker. */
  readonly position: number;
}

/** Lower routing value first, then list position (SPEC §4.4). */
export const byPriority = (a: Prioritised, b: Prioritised): number => a.routingValue - b.routingValue || a.position - b.position;
