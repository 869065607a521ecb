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
