/**
 * A clock the test moves by hand, handed to workers and timed work instead of the real one: waits
 * and backoff are checked by moving it, never by sleeping. It starts `aheadMs` past the real clock,
 * so what the test writes in its first seconds is already due.
 */
export function manualClock(aheadMs = 5_000) {
  let at = Date.now() + aheadMs;
  return {
    now: () => new Date(at),
    /** The clock's time in milliseconds. */
    ms: () => at,
    advance(ms: number) {
      at += ms;
    },
  };
}

export type ManualClock = ReturnType<typeof manualClock>;
