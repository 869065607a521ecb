import type { MonitorConfig } from '../config/model.js';

/**
 * The recovery ladder of one monitor, pure: the ladder state, one probe
 * result and the time in; the new state and at most one decision out.
 *
 * - A monitor acts when its consecutive failures exceed `retries` (retries: 1 → act on the
 *   2nd consecutive failure; retries: 0 → on the first).
 * - Group monitors with a `target` first restart it, up to `onFailure.restart` times; the
 *   count starts over once the monitor has passed for RESET_AFTER_INTERVALS intervals. With
 *   `onFailure.restartWindowMs` only the restarts of that last period count instead (WSFC's
 *   RestartPeriod): a target that fails again soon after each restart runs out of restarts even
 *   when it passes long enough in between, and one that fails once a day is always restarted.
 * - Then `onFailure.then`: failover, ineligible (until the monitor passes again), alert
 *   (once per failing streak) or none. A node-level monitor cannot fail a group over, so
 *   `failover` there means ineligible: its groups move away, which is what the user wants.
 * - A *hard* failure (an OCF agent's "not installed", "not configured", "no permission") skips
 *   the retries and the restarts: retrying on this node cannot fix it (Pacemaker bans the
 *   resource from the node on a hard error). `onFailure.then` follows at once.
 */

export const RESET_AFTER_INTERVALS = 10;

export interface LadderState {
  consecutiveFailures: number;
  /** Restarts that count against `onFailure.restart` (the length of `restartTimes`). */
  restarts: number;
  /** Monotonic ms of each restart that still counts, oldest first. */
  restartTimes: readonly number[];
  /** Monotonic ms of the first pass after the last failure; null while failing. */
  passingSince: number | null;
  /** This monitor currently holds the node ineligible. */
  ineligible: boolean;
  /** The alert of the current failing streak was raised. */
  alerted: boolean;
}

export type Decision =
  | { kind: 'none' }
  | { kind: 'restart'; target: string; attempt: number }
  | { kind: 'failover' }
  | { kind: 'ineligible' }
  | { kind: 'eligible' }
  | { kind: 'alert' };

export type LadderConfig = Pick<MonitorConfig, 'retries' | 'intervalMs' | 'onFailure' | 'target'> & {
  /** Node-level monitor (runs always, no group). */
  nodeLevel: boolean;
};

export const INITIAL_LADDER: LadderState = Object.freeze({
  consecutiveFailures: 0,
  restarts: 0,
  restartTimes: Object.freeze([]) as readonly number[],
  passingSince: null,
  ineligible: false,
  alerted: false,
});

export function stepLadder(
  state: LadderState,
  cfg: LadderConfig,
  ok: boolean,
  nowMs: number,
  hard = false,
): { state: LadderState; decision: Decision } {
  const windowMs = cfg.onFailure.restartWindowMs;
  const counted =
    windowMs === undefined ? state.restartTimes : state.restartTimes.filter((t) => nowMs - t < windowMs);
  if (ok) {
    const passingSince = state.passingSince ?? nowMs;
    const settled = windowMs === undefined && nowMs - passingSince >= RESET_AFTER_INTERVALS * cfg.intervalMs;
    const restartTimes = settled ? [] : counted;
    const next: LadderState = {
      consecutiveFailures: 0,
      restarts: restartTimes.length,
      restartTimes,
      passingSince,
      ineligible: false,
      alerted: false,
    };
    return { state: next, decision: state.ineligible ? { kind: 'eligible' } : { kind: 'none' } };
  }
  const failures = state.consecutiveFailures + 1;
  const failing: LadderState = {
    ...state,
    consecutiveFailures: failures,
    restarts: counted.length,
    restartTimes: counted,
    passingSince: null,
  };
  if (failures <= cfg.retries && !hard) return { state: failing, decision: { kind: 'none' } };

  if (!hard && !cfg.nodeLevel && cfg.target !== undefined && counted.length < cfg.onFailure.restart) {
    const attempt = counted.length + 1;
    // A restarted resource gets a fresh count of retries before the next rung.
    return {
      state: {
        ...failing,
        consecutiveFailures: 0,
        restarts: attempt,
        restartTimes: [...counted, nowMs],
      },
      decision: { kind: 'restart', target: cfg.target, attempt },
    };
  }
  const then = cfg.nodeLevel && cfg.onFailure.then === 'failover' ? 'ineligible' : cfg.onFailure.then;
  switch (then) {
    case 'failover':
      return { state: { ...failing, consecutiveFailures: 0 }, decision: { kind: 'failover' } };
    case 'ineligible':
      if (state.ineligible) return { state: failing, decision: { kind: 'none' } };
      return { state: { ...failing, ineligible: true }, decision: { kind: 'ineligible' } };
    case 'alert':
      if (state.alerted) return { state: failing, decision: { kind: 'none' } };
      return { state: { ...failing, alerted: true }, decision: { kind: 'alert' } };
    case 'none':
      return { state: failing, decision: { kind: 'none' } };
  }
}
