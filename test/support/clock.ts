/** A clock tests move by hand (SPEC: no sleeps in tests); pass `clock.now` to startServer. */
export interface TestClock {
  now: () => number;
  set(iso: string): void;
  advance(ms: number): void;
}

export function testClock(startIso: string): TestClock {
  let nowMs = Date.parse(startIso);
  return {
    now: () => nowMs,
    set: (iso) => {
      nowMs = Date.parse(iso);
    },
    advance: (ms) => {
      nowMs += ms;
    },
  };
}
