import type { StonithConfig } from '../../config/model.js';

/**
 * When the new owner of a `fencing: stonith` group fences the previous owner, pure: the facts
 * at acquisition, the fencing state, the outcome of an attempt and the time in; the next step
 * out. No I/O, no clock, no randomness (the caller hands in a number in [0, 1)).
 *
 * Rules (docs/fencing.md):
 * - Fence the node that held the lease just before this node acquired it, unless that node
 *   is this one or it handed the group over cleanly: it stopped every resource and wrote a
 *   handover record `{ node, term }` for exactly that term before it released. A lease that
 *   ran out (node cut off, frozen, crashed, a failed stop, an agent killed) has no record.
 * - Nothing starts before the device confirmed the power-off (Pacemaker: resources of an
 *   unclean node are recovered only after fencing succeeded).
 * - The first attempt waits the per-target static delay plus a random part up to
 *   `randomDelayMs` (pcmk_delay_base / pcmk_delay_max), so two nodes racing to fence each
 *   other do not both succeed. A handover record that arrives during the wait cancels it.
 * - A failed or timed-out attempt leaves the group down and is retried after
 *   `retryIntervalMs`, doubled per failure, at most ten times that; forever, since starting
 *   without the confirmation is what fencing exists to prevent.
 */

/** The lease holder before this node's acquisition, as the owner events showed it. */
export interface Holder {
  node: string;
  term: string;
}

/** The record a node writes after a clean stop, before it releases the lease. */
export type Handover = Holder;

export type FenceState =
  /** Nothing to fence for this term: first owner, own lease, or a clean handover. */
  | { phase: 'none'; term: string; why: string }
  /** Waiting for the fencing delay (attempts = 0) or the next retry after a failure. */
  | {
      phase: 'waiting';
      term: string;
      target: Holder;
      attempts: number;
      notBefore: number;
      lastError: string | null;
    }
  /** An attempt is running (power-off, then waiting for the confirmation). */
  | { phase: 'fencing'; term: string; target: Holder; attempts: number; since: number }
  /** The device confirmed the target is off: the group may start under this term. */
  | { phase: 'fenced'; term: string; target: Holder; attempts: number; at: number };

export type FenceStep =
  | { kind: 'start' }
  | { kind: 'wait'; untilMs: number }
  | { kind: 'fence'; target: string; attempt: number };

export interface AcquiredFacts {
  self: string;
  term: string;
  /** Who held the lease before this acquisition (null: nobody seen since this agent started). */
  previous: Holder | null;
  /** The group's handover record in the replicated intent, if any. */
  handover: Handover | null;
  /** A number in [0, 1) for the random part of the delay. */
  random: number;
}

export type FencePolicy = Pick<StonithConfig, 'delayMs' | 'randomDelayMs' | 'retryIntervalMs'>;

export function onAcquired(f: AcquiredFacts, policy: FencePolicy, now: number): FenceState {
  const { previous, term } = f;
  if (previous === null) return { phase: 'none', term, why: 'no previous owner seen' };
  if (previous.node === f.self) return { phase: 'none', term, why: 'this node held it last' };
  if (cleanHandover(previous, f.handover))
    return { phase: 'none', term, why: `${previous.node} handed it over after a clean stop` };
  const delay = (policy.delayMs[previous.node] ?? 0) + Math.floor(f.random * policy.randomDelayMs);
  return {
    phase: 'waiting',
    term,
    target: previous,
    attempts: 0,
    notBefore: now + delay,
    lastError: null,
  };
}

export function cleanHandover(previous: Holder, handover: Handover | null): boolean {
  return handover !== null && handover.node === previous.node && handover.term === previous.term;
}

/** What to do now. `handover` is re-read each time: a record may arrive during the delay. */
export function nextStep(
  state: FenceState,
  handover: Handover | null,
  now: number,
): { state: FenceState; step: FenceStep } {
  switch (state.phase) {
    case 'none':
    case 'fenced':
      return { state, step: { kind: 'start' } };
    case 'fencing':
      // One attempt at a time; the caller reports its outcome.
      return { state, step: { kind: 'wait', untilMs: now } };
    case 'waiting': {
      if (state.attempts === 0 && cleanHandover(state.target, handover)) {
        const why = `${state.target.node} handed it over after a clean stop`;
        return { state: { phase: 'none', term: state.term, why }, step: { kind: 'start' } };
      }
      if (now < state.notBefore) return { state, step: { kind: 'wait', untilMs: state.notBefore } };
      const attempts = state.attempts + 1;
      return {
        state: { phase: 'fencing', term: state.term, target: state.target, attempts, since: now },
        step: { kind: 'fence', target: state.target.node, attempt: attempts },
      };
    }
  }
}

/** The attempt ended: confirmed off, or failed (an error, a timeout, no confirmation). */
export function onAttempt(
  state: FenceState,
  outcome: { ok: true } | { ok: false; error: string },
  policy: FencePolicy,
  now: number,
): FenceState {
  if (state.phase !== 'fencing') return state;
  const { term, target, attempts } = state;
  if (outcome.ok) return { phase: 'fenced', term, target, attempts, at: now };
  return {
    phase: 'waiting',
    term,
    target,
    attempts,
    notBefore: now + retryDelay(policy.retryIntervalMs, attempts),
    lastError: outcome.error,
  };
}

/** retryInterval × 2^(failures − 1), at most 10 × retryInterval. */
export function retryDelay(retryIntervalMs: number, failures: number): number {
  return Math.min(retryIntervalMs * 10, retryIntervalMs * 2 ** Math.max(0, failures - 1));
}

/** A short sentence for status and events. */
export function describeFence(state: FenceState): string {
  switch (state.phase) {
    case 'none':
      return `no fencing needed: ${state.why}`;
    case 'fencing':
      return `fencing ${state.target.node} (attempt ${state.attempts})`;
    case 'fenced':
      return `${state.target.node} fenced`;
    case 'waiting':
      return state.lastError === null
        ? `waiting to fence ${state.target.node} (fencing delay)`
        : `fencing ${state.target.node} failed (attempt ${state.attempts}: ${state.lastError}); the group stays down until a fence succeeds`;
  }
}
