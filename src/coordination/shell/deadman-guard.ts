/**
 * Whether this node can still fence what it holds, as pure rules over the deadman helper's
 * state and the deadlines it acknowledged; no I/O, no clock (the caller passes `now`).
 *
 * A lease is only safe to act on while something outside the agent will stop the group at
 * its deadline. The helper acknowledges each arm; the latest acknowledged deadline of a group
 * is `t0 + V − gh` of a renewal the helper covered, so `deadline − slack` (slack = S − gh) is
 * the agent's own demote point for that renewal. The rules:
 *
 * - Acquire only while a helper is ready: a node without one competes for nothing new.
 * - While no helper is ready, a held group must be demoted once `now` reaches the demote point
 *   of the latest deadline a helper acknowledged. Renewals that no helper acknowledged do not
 *   move that point, so a dead helper costs at most the rest of the window it covered, and a
 *   helper restarted and re-armed in time costs nothing. (Once the running helper acknowledged
 *   the group, it fences at what it holds, and the backend demotes at its own point as usual.)
 * - A group held without any acknowledged deadline is demoted at once when no helper is ready
 *   (an acquisition that raced the helper's death); while a helper is ready its first ack is
 *   awaited (an arm that fails makes the caller restart the helper, which ends the wait).
 */

export type DeadmanState =
  /** No helper at all (only in-process tests turn it off): nothing is guarded. */
  | 'off'
  /** The helper is being spawned (at start or after it died). */
  | 'starting'
  /** A helper is running and answering. */
  | 'ready'
  /** The helper died or stopped answering and no new one is ready yet. */
  | 'down';

export interface DeadmanView {
  state: DeadmanState;
  /** PID of the running helper, or null. */
  pid: number | null;
  /** Helpers spawned after the first one died. */
  restarts: number;
  /** Held groups for which the running helper acknowledged a deadline. */
  armed: string[];
  /** Held groups the running helper does not cover (yet): demoted at their bound if it stays so. */
  unfenced: string[];
  /** How the last helper ended, if one died. */
  lastExit: { code: number | null; signal: string | null; reason: string } | null;
}

export interface GuardedGroup {
  group: string;
  /** Latest deadline a helper acknowledged (monotonic ms), or null. */
  acked: number | null;
  /** Latest deadline asked for. */
  requested: number;
  /** The running helper acknowledged a deadline of this group (a restarted one has not yet). */
  byLive: boolean;
}

export class DeadmanGuard {
  private readonly slackMs: number;
  private current: DeadmanState;
  private readonly groups = new Map<string, GuardedGroup>();
  /**
   * The groups the running helper has not acknowledged (byLive false). While a helper is ready
   * only these can have a bound, so `due` and `nextDueAt`, called on every tick, walk them
   * rather than every held group.
   */
  private readonly notLive = new Map<string, GuardedGroup>();

  constructor(opts: { slackMs: number; enabled: boolean }) {
    this.slackMs = opts.slackMs;
    this.current = opts.enabled ? 'starting' : 'off';
  }

  get state(): DeadmanState {
    return this.current;
  }

  /** True when the node may try to acquire a lease. */
  canAcquire(): boolean {
    return this.current === 'ready' || this.current === 'off';
  }

  /** A helper was spawned and initialised. */
  ready(): void {
    if (this.current === 'off') return;
    this.current = 'ready';
    // A new helper holds nothing until it acknowledges its re-arms.
    for (const g of this.groups.values()) {
      g.byLive = false;
      this.notLive.set(g.group, g);
    }
  }

  /** The helper died or failed an arm; `starting` once a replacement is being spawned. */
  down(next: 'down' | 'starting' = 'down'): void {
    if (this.current !== 'off') this.current = next;
  }

  /** An arm for a held group was asked for (the group counts as held from now on). */
  requested(group: string, deadline: number): void {
    const g = this.groups.get(group);
    if (g) g.requested = deadline;
    else {
      const added = { group, acked: null, requested: deadline, byLive: false };
      this.groups.set(group, added);
      this.notLive.set(group, added);
    }
  }

  /** The helper holds `deadline` for the group. */
  acked(group: string, deadline: number): void {
    const g = this.groups.get(group);
    if (!g) return;
    if (g.acked === null || deadline > g.acked) g.acked = deadline;
    g.byLive = true;
    this.notLive.delete(group);
  }

  /** The group is no longer held here (released, demoted or abandoned): nothing to guard. */
  forget(group: string): void {
    this.groups.delete(group);
    this.notLive.delete(group);
  }

  /** Held groups whose demote point passed without cover: demote each now (once). */
  due(now: number): string[] {
    if (this.current === 'off') return [];
    const out: string[] = [];
    for (const g of this.candidates()) {
      const bound = this.boundOf(g, now);
      if (bound !== null && now >= bound) out.push(g.group);
    }
    for (const group of out) this.forget(group);
    return out;
  }

  /** When `due` may next return something (monotonic ms), or null. */
  nextDueAt(now: number): number | null {
    if (this.current === 'off') return null;
    let next: number | null = null;
    for (const g of this.candidates()) {
      const bound = this.boundOf(g, now);
      if (bound !== null && (next === null || bound < next)) next = bound;
    }
    return next;
  }

  /**
   * Held groups, split by whether the running helper covers their latest renewal (a re-arm in
   * flight is the normal case). One pass and no copies: the status snapshot reads it every
   * second, for every group.
   */
  coverage(): { covered: string[]; uncovered: string[] } {
    const covered: string[] = [];
    const uncovered: string[] = [];
    for (const g of this.groups.values())
      (this.current === 'off' || (this.current === 'ready' && g.byLive) ? covered : uncovered).push(g.group);
    return { covered, uncovered };
  }

  /** The groups that can have a bound now (see boundOf). */
  private candidates(): IterableIterator<GuardedGroup> {
    return (this.current === 'ready' ? this.notLive : this.groups).values();
  }

  /**
   * Once the running helper acknowledged the group, it fences at what it holds and the backend
   * demotes at its own point, so the guard adds nothing (and does not race that demote). A
   * ready helper's first acknowledgement of a new group is awaited.
   */
  private boundOf(g: GuardedGroup, now: number): number | null {
    if (this.current === 'ready' && (g.byLive || g.acked === null)) return null;
    return g.acked === null ? now : g.acked - this.slackMs;
  }
}
