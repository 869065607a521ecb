/**
 * Time as the decision core sees it: milliseconds on a monotonic clock (never wall time),
 * so leases survive wall-clock steps. Tests inject a fake clock.
 */
export interface Clock {
  /** Monotonic milliseconds (fractional allowed). */
  now(): number;
}

export const monotonicClock: Clock = {
  now: () => Number(process.hrtime.bigint()) / 1e6,
};

/** Cancels a timer set through a {@link TimerClock}; calling it twice is harmless. */
export type Cancel = () => void;

/**
 * A clock that can also wake its caller. Long-lived components take one instead of calling
 * `setTimeout` themselves, so tests drive time with a fake (test/support/fake-timers.ts
 * implements it) and never sleep. The engine's `Timers` has the same shape.
 */
export interface TimerClock extends Clock {
  setTimeout(fn: () => void, ms: number): Cancel;
}

export const monotonicTimers: TimerClock = {
  now: monotonicClock.now,
  setTimeout: (fn, ms) => {
    const handle = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(handle);
  },
};
