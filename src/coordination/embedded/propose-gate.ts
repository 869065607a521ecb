import { ACQUISITIONS_PER_SECOND } from '../lease/acquisition-pacer.js';
import type { ClockAnomaly } from '../membership.js';
import { type VoterSighting, type WaitForAllVerdict, waitForAll } from './wait-for-all.js';

/**
 * When this node may propose, and what a clock anomaly does to its leases; no I/O.
 *
 * After a (re)start, and again after a clock anomaly, the node proposes nothing for the
 * quarantine M: its own old lease may still be reported by acceptors (a fresh proposer would
 * take it for an extension), and after a cold start of the whole cluster every candidate then
 * races from the same moment, so the rank back-off gives each group to its preferred node.
 * Candidacies set meanwhile wait here and take effect when the quarantine ends. On a start,
 * proposing also waits for every voter to be heard, up to a bound (see wait-for-all.ts).
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

/**
 * After a cold-start wait, a candidacy of rank r > 0 waits r × this longer than rank 0: all
 * nodes open at the same computed moment, but a loaded machine may run its tick late, and the
 * lease protocol's own rank back-off (20 ms a step) is too short to cover that.
 */
export const COLD_START_STAGGER_MS = 500;

/**
 * The stagger per rank with `groups` configured: COLD_START_STAGGER_MS plus the time the
 * preferred node's acquisition pacer needs to walk through them. A less preferred node skips
 * the groups it already sees held and tries the rest, so a fixed stagger let it reach the
 * preferred node's frontier: with 1,000 groups it took 11 of them while the preferred node was
 * still walking (bench:scale, 2026-12-06).
 */
export function coldStartStaggerMs(groups: number): number {
  return COLD_START_STAGGER_MS + Math.ceil((groups * 1000) / ACQUISITIONS_PER_SECOND);
}
/** After a cold-start wait, time for the engine to rank the voters last heard (see wait-for-all.ts). */
export const COLD_START_SETTLE_MS = 500;

export interface ProposeGateOptions {
  quarantineMs: number;
  /** Bound of the cold-start wait for every voter; 0 (the default) turns it off. */
  waitForAllMs?: number;
  /**
   * Groups in the configuration: what the preferred node may have to walk after a cold start
   * (see coldStartStaggerMs). Counted from the config, not from the candidacies waiting here:
   * the engine offers its candidacies only once it has ranked the voters, after the wait.
   */
  groups?: number;
}

export class ProposeGate {
  private readonly quarantineMs: number;
  private readonly waitForAllMs: number;
  private proposeAfter = 0;
  private bootAt = 0;
  /** Until the cold-start wait is over; null once it is. */
  private coldStart: { until: number } | null = null;
  /** When proposing opened after a cold-start wait (for the stagger); null otherwise. */
  private coldOpenedAt: number | null = null;
  /** The stagger per rank after a cold start (see coldStartStaggerMs). */
  private readonly coldStaggerMs: number;
  private readonly deferred = new Map<string, number | null>();

  constructor(opts: number | ProposeGateOptions) {
    const o = typeof opts === 'number' ? { quarantineMs: opts } : opts;
    this.quarantineMs = o.quarantineMs;
    this.waitForAllMs = o.waitForAllMs ?? 0;
    this.coldStaggerMs = coldStartStaggerMs(o.groups ?? 0);
  }

  /** The node (re)started at `now`: no proposing for the quarantine, nor before the cold-start wait is over. */
  boot(now: number): void {
    this.bootAt = now;
    this.quarantine(now);
    this.coldStart =
      this.waitForAllMs > 0 ? { until: now + Math.max(this.waitForAllMs, this.quarantineMs) } : null;
  }

  get quarantinedUntil(): number {
    return this.proposeAfter;
  }

  /** Past the cold-start wait and the quarantine: what peers are told, so a late starter joins at once. */
  isOpen(now: number): boolean {
    return this.coldStart === null && now >= this.proposeAfter;
  }

  /**
   * Weighs the cold-start wait against what the heartbeats tell of the other voters; returns
   * the verdict once, when the wait ends (for the log), and null otherwise.
   */
  settle(now: number, peers: readonly VoterSighting[]): Extract<WaitForAllVerdict, { open: true }> | null {
    if (this.coldStart === null) return null;
    const verdict = waitForAll({
      now,
      bootAt: this.bootAt,
      quarantineMs: this.quarantineMs,
      waitForAllMs: this.waitForAllMs,
      settleMs: COLD_START_SETTLE_MS,
      peers,
    });
    if (!verdict.open) return null;
    this.coldStart = null;
    this.proposeAfter = Math.max(this.proposeAfter, verdict.at);
    // A node joining a "running" cluster staggers too: its peers may only have timed out of
    // their own wait with no majority yet, so no group has an owner, and this node completing
    // the majority must not race the preferred node for them. Where a group has an owner the
    // stagger changes nothing (nobody can acquire a held lease).
    if (verdict.reason !== 'off') this.coldOpenedAt = this.proposeAfter;
    return verdict;
  }

  /** When the gate next has something to let through (a timer for the caller). */
  nextWakeAt(): number {
    if (this.deferred.size === 0) return Number.POSITIVE_INFINITY;
    if (this.coldStart !== null) return this.coldStart.until;
    return Math.min(...[...this.deferred.values()].map((rank) => this.releaseAt(rank)));
  }

  /** A candidacy change: true when it applies now, false when it waits (the latest one waiting wins). */
  offer(group: string, rank: number | null, now: number): boolean {
    if (this.isOpen(now) && now >= this.releaseAt(rank)) {
      this.deferred.delete(group);
      return true;
    }
    this.deferred.set(group, rank);
    return false;
  }

  /** Candidacies to apply now that the quarantine (and the cold-start wait) is over (each once). */
  due(now: number): Array<[string, number | null]> {
    if (this.deferred.size === 0 || !this.isOpen(now)) return [];
    const out = [...this.deferred].filter(([, rank]) => now >= this.releaseAt(rank));
    for (const [group] of out) this.deferred.delete(group);
    return out;
  }

  /** When a candidacy of this rank may apply: lower preferences later on a cold start. */
  private releaseAt(rank: number | null): number {
    if (this.coldOpenedAt === null || rank === null || rank === 0) return this.proposeAfter;
    return Math.max(this.proposeAfter, this.coldOpenedAt + rank * this.coldStaggerMs);
  }

  private quarantine(now: number): void {
    this.proposeAfter = now + this.quarantineMs;
  }

  /**
   * A clock anomaly at `now`: quarantine again, remember each group's candidacy for when it
   * ends (a non-null candidacy already waiting wins over the proposer's), and demote what is held.
   */
  onAnomaly(anomaly: ClockAnomaly, groups: readonly GroupStanding[], now: number): AnomalyPlan {
    this.quarantine(now);
    const demote: AnomalyPlan['demote'] = [];
    for (const g of groups) {
      this.deferred.set(g.group, this.deferred.get(g.group) ?? g.rank);
      if (g.heldTerm !== null)
        demote.push({ group: g.group, term: g.heldTerm, reason: `clock anomaly: ${anomaly.kind}` });
    }
    return { demote };
  }
}
