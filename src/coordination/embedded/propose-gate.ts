import type { ClockAnomaly } from '../membership.js';

/**
 * When this node may propose, and what a clock anomaly does to its leases; no I/O.
 *
 * After a (re)start, and again after a clock anomaly, the node proposes nothing for the
 * quarantine M: its own old lease may still be reported by acceptors (a fresh proposer would
 * take it for an extension), and after a cold start of the whole cluster every candidate then
 * races from the same moment, so the rank back-off gives each group to its preferred node.
 * Candidacies set meanwhile wait here and take effect when the quarantine ends.
 *
 * A suspend (boot time jumped, monotonic time did not), a long pause, or a peer whose clock
 * runs at a rate far from ours breaks the timing the leases rely on: every lease held here is
 * dropped at once (demote), every proposer starts over, and the quarantine begins again.
 */

export interface GroupStanding {
  group: string;
  /** The proposer's current candidacy (null: not competing). */
  rank: number | null;
  /** The term of the lease held here, if any. */
  heldTerm: number | null;
}

export interface AnomalyPlan {
  /** Groups whose lease must be demoted now, with the reason to give. */
  demote: Array<{ group: string; term: number; reason: string }>;
}

export class ProposeGate {
  private readonly quarantineMs: number;
  private proposeAfter = 0;
  private readonly deferred = new Map<string, number | null>();

  constructor(quarantineMs: number) {
    this.quarantineMs = quarantineMs;
  }

  /** The node (re)started at `now`: no proposing for the quarantine. */
  boot(now: number): void {
    this.proposeAfter = now + this.quarantineMs;
  }

  get quarantinedUntil(): number {
    return this.proposeAfter;
  }

  /** A candidacy change: true when it applies now, false when it waits for the quarantine. */
  offer(group: string, rank: number | null, now: number): boolean {
    if (now >= this.proposeAfter) return true;
    this.deferred.set(group, rank);
    return false;
  }

  /** Candidacies to apply now that the quarantine is over (each once). */
  due(now: number): Array<[string, number | null]> {
    if (this.deferred.size === 0 || now < this.proposeAfter) return [];
    const out = [...this.deferred];
    this.deferred.clear();
    return out;
  }

  /**
   * A clock anomaly at `now`: quarantine again, remember each group's candidacy for when it
   * ends (a non-null candidacy already waiting wins over the proposer's), and demote what is held.
   */
  onAnomaly(anomaly: ClockAnomaly, groups: readonly GroupStanding[], now: number): AnomalyPlan {
    this.boot(now);
    const demote: AnomalyPlan['demote'] = [];
    for (const g of groups) {
      this.deferred.set(g.group, this.deferred.get(g.group) ?? g.rank);
      if (g.heldTerm !== null)
        demote.push({ group: g.group, term: g.heldTerm, reason: `clock anomaly: ${anomaly.kind}` });
    }
    return { demote };
  }
}
