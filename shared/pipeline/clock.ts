/**
 * The one clock of the functions: wall time for rows and leases, a monotonic reading for durations and budgets,
 * and a sleep, injected into every flow so tests control time instead of sleeping (STYLE.md §9).
 */

/** Time as the flows see it; production passes `systemClock`, tests a fake or `fixedClock`. */
export interface Clock {
  /** Wall-clock time: what rows record and what leases and backoffs are measured against. */
  now(): Date;
  /** Milliseconds from an arbitrary origin, for durations and time budgets (never goes back). */
  monotonic(): number;
  sleep(ms: number): Promise<void>;
}

/** The real clock: `Date`, `performance.now()` and `setTimeout`. */
export const systemClock: Clock = {
  now: () => new Date(),
  monotonic: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * A clock stopped at `at` whose monotonic reading advances by `stepMs` on every read (so a duration is never
 * zero and a budget can run out), and whose sleep returns at once. For tests and dry runs.
 */
export function fixedClock(at: Date | (() => Date), stepMs = 0): Clock {
  let t = 0;
  return {
    now: () => (typeof at === "function" ? at() : new Date(at.getTime())),
    monotonic: () => (t += stepMs),
    sleep: () => Promise.resolve(),
  };
}
