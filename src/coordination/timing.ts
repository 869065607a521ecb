import type { Timing, TimingProfileName } from '../config/model.js';

/**
 * Lease timing math for the PaxosLease protocol and the named timing profiles.
 * All values in milliseconds on the monotonic clock.
 */

/** Bound on the relative clock *rate* error between any two machines (1000 ppm). */
export const RHO = 1e-3;
/** Extra safety margin subtracted from every validity window and added to every quarantine. */
export const GUARD_MS = 10;

export const TIMING_PROFILES: Readonly<Record<TimingProfileName, Timing>> = Object.freeze({
  fast: { profile: 'fast', heartbeatMs: 75, leaseMs: 500, renewMs: 75, stopBudgetMs: 150 },
  default: { profile: 'default', heartbeatMs: 300, leaseMs: 2000, renewMs: 300, stopBudgetMs: 600 },
  relaxed: { profile: 'relaxed', heartbeatMs: 1000, leaseMs: 6000, renewMs: 1000, stopBudgetMs: 2000 },
});

export interface LeaseMath {
  /** V: how long after t0 (send time of the PROPOSE) the owner may consider itself owner. */
  validityMs: number;
  /** The owner demotes (stops resources) at t0 + demoteAtMs = V − S. */
  demoteAtMs: number;
  /** The deadman helper acts at t0 + deadmanAtMs = V − gh. */
  deadmanAtMs: number;
  /** M: an acceptor that (re)starts votes for nobody this long. */
  quarantineMs: number;
}

export function leaseMath(t: Timing): LeaseMath {
  const validityMs = t.leaseMs * (1 - 2 * RHO) - GUARD_MS;
  const deadmanMarginMs = Math.max(5, Math.min(50, t.stopBudgetMs / 4));
  return {
    validityMs,
    demoteAtMs: validityMs - t.stopBudgetMs,
    deadmanAtMs: validityMs - deadmanMarginMs,
    quarantineMs: t.leaseMs * (1 + RHO) + GUARD_MS,
  };
}

/**
 * Reasons a set of timing values cannot be safe (or cannot work) together, as
 * [key, message] pairs for the config validator. Empty when the values are usable.
 */
export function timingProblems(t: Timing): Array<[keyof Timing, string]> {
  const problems: Array<[keyof Timing, string]> = [];
  const math = leaseMath(t);
  if (t.leaseMs < 100) problems.push(['leaseMs', 'lease must be at least 100ms']);
  if (t.stopBudgetMs <= 0) problems.push(['stopBudgetMs', 'stop budget must be positive']);
  if (t.stopBudgetMs >= math.validityMs / 2) {
    problems.push([
      'stopBudgetMs',
      `stop budget must be below half the usable lease (${Math.floor(math.validityMs / 2)}ms)`,
    ]);
  }
  if (t.renewMs * 2 > math.demoteAtMs) {
    problems.push([
      'renewMs',
      `renew interval allows fewer than two renewals before the demote point; keep it at most ${Math.floor(Math.max(0, math.demoteAtMs) / 2)}ms`,
    ]);
  }
  if (t.heartbeatMs > t.leaseMs)
    problems.push(['heartbeatMs', 'heartbeat must not be longer than the lease']);
  return problems;
}
