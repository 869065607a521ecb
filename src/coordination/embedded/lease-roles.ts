import type { Timing } from '../../config/model.js';
import { LeaseAcceptor } from '../lease/acceptor.js';
import { ACQUISITIONS_PER_SECOND, AcquisitionPacer } from '../lease/acquisition-pacer.js';
import { type BatchOutput, BatchRenewer, type UnfinishedRound } from '../lease/batch-renewer.js';
import {
  BATCH_GROUP,
  BROADCAST,
  isAcceptorMessage,
  type LeaseMessage,
  type Outgoing,
  type RenewalEntry,
  type ReportedLease,
} from '../lease/messages.js';
import { type LeaseEvent, LeaseProposer } from '../lease/proposer.js';
import { leaseMath } from '../timing.js';
import type { VoterInfo } from './voters.js';

export interface LeaseRolesOptions {
  self: VoterInfo;
  voters: readonly VoterInfo[];
  timing: Timing;
  /** The groups this node may run (one proposer each). */
  groups: readonly string[];
  /** A lease message for another voter. */
  send: (to: string, msg: LeaseMessage) => void;
  /** An event of one of this node's proposers. */
  onEvent: (group: string, e: LeaseEvent) => void;
  /** Monotonic time, read when a message to this node itself is delivered. */
  now: () => number;
  /** Renew every lease held in one round (BatchRenewer) instead of one round per group. Default true. */
  batchRenewal?: boolean;
  /** Rank-0 acquisition rounds started per second, at most (AcquisitionPacer). */
  acquisitionsPerSecond?: number;
  /** A batched renewal round ended with leases it could not renew (for the log). */
  onUnfinishedRound?: (round: UnfinishedRound) => void;
}

/**
 * This node's PaxosLease roles: its acceptor (a vote) and one proposer per group it may run,
 * and the routing between them. A message to this node itself is delivered at once, without
 * the network; everything else goes to `send`. No sockets, no timers: the coordinator calls
 * `tick` at `nextWakeAt` and hands every received lease message to `deliver`.
 */
export class LeaseRoles {
  private readonly opts: LeaseRolesOptions;
  readonly acceptor: LeaseAcceptor;
  private readonly proposers = new Map<string, LeaseProposer>();
  private readonly renewer: BatchRenewer | null;
  private readonly pacer: AcquisitionPacer;
  /**
   * No proposer is due before this: a lower bound, lowered whenever a proposer is touched and
   * made exact by each pass over them. With N groups a tick then costs O(1) unless one is due
   * (a pass per tick allocated and scanned N proposers 50+ times a second).
   */
  private proposersDueAt = Number.NEGATIVE_INFINITY;

  constructor(opts: LeaseRolesOptions) {
    this.opts = opts;
    this.acceptor = new LeaseAcceptor({ quarantineMs: leaseMath(opts.timing).quarantineMs });
    this.renewer =
      opts.batchRenewal === false
        ? null
        : new BatchRenewer({
            node: opts.self.name,
            voters: opts.voters.map((v) => ({ name: v.name, weight: v.weight })),
            timing: opts.timing,
          });
    this.pacer = new AcquisitionPacer({
      ratePerSecond: opts.acquisitionsPerSecond ?? ACQUISITIONS_PER_SECOND,
      burstMs: opts.timing.renewMs,
    });
    for (const group of opts.groups) this.proposers.set(group, this.newProposer(group));
  }

  /** The groups this node proposes for, with their current candidacy. */
  standings(): Array<{ group: string; rank: number | null }> {
    return [...this.proposers].map(([group, p]) => ({ group, rank: p.candidacy() }));
  }

  candidacy(group: string): number | null | undefined {
    return this.proposers.get(group)?.candidacy();
  }

  /** False when this node does not propose for the group. */
  setCandidacy(group: string, rank: number | null): boolean {
    const p = this.proposers.get(group);
    if (!p) return false;
    p.setCandidacy(rank);
    this.touched(p);
    return true;
  }

  /**
   * Forget the group's proposer for a fresh one without candidacy: it neither renews nor
   * releases, so the acceptors keep the old lease until it expires.
   */
  reset(group: string): boolean {
    if (!this.proposers.has(group)) return false;
    const p = this.newProposer(group);
    this.proposers.set(group, p);
    this.touched(p);
    return true;
  }

  resetAll(): void {
    for (const group of this.proposers.keys()) this.reset(group);
  }

  /** Planned hand-over of a group whose resources are stopped. */
  release(group: string, now: number): void {
    const p = this.proposers.get(group);
    if (p) this.route(p.release(now), group);
  }

  tick(now: number): void {
    // Only the proposers that have something due: with N groups, most have nothing to do.
    if (now >= this.proposersDueAt) {
      // Touches during the pass (a tick's message delivered to this node's own proposers)
      // lower the bound again; the pass adds what it saw after each proposer's own tick.
      this.proposersDueAt = Number.POSITIVE_INFINITY;
      let next = Number.POSITIVE_INFINITY;
      const waiting: Array<{ group: string; p: LeaseProposer; rank: number }> = [];
      this.proposers.forEach((p, group) => {
        if (p.nextWakeAt() <= now) {
          // Not `touched`: an attempt left waiting reports a due time in the past.
          this.route(p.tick(now, this.localLease(group, now), false), group, false);
          const rank = p.acquisitionDue(now);
          if (rank !== null) {
            waiting.push({ group, p, rank });
            return;
          }
        }
        next = Math.min(next, p.nextWakeAt());
      });
      next = Math.min(next, this.startAcquisitions(waiting, now));
      this.proposersDueAt = Math.min(this.proposersDueAt, next);
    }
    if (this.renewer)
      this.routeBatch(
        this.renewer.tick(now, () => this.renewalEntries(now)),
        now,
      );
    this.routeAcceptor(this.acceptor.tick(now));
  }

  /**
   * Lets the due acquisition attempts go as far as the pacer allows, most preferred first and
   * then in the config's order (the same order on every node); returns when the next of those
   * left waiting may go.
   */
  private startAcquisitions(
    waiting: Array<{ group: string; p: LeaseProposer; rank: number }>,
    now: number,
  ): number {
    waiting.sort((a, b) => a.rank - b.rank);
    let next = Number.POSITIVE_INFINITY;
    for (const { group, p, rank } of waiting) {
      if (!this.pacer.take(rank, now)) return Math.min(next, this.pacer.readyAt(rank, now));
      this.route(p.tick(now, this.localLease(group, now)), group);
      next = Math.min(next, p.nextWakeAt());
    }
    return next;
  }

  private localLease(group: string, now: number): () => ReportedLease | null {
    return () => this.acceptor.view(group, now).accepted;
  }

  /** The earliest time a role needs its next tick (at most `latest`). */
  nextWakeAt(latest: number): number {
    let wake = latest;
    if (this.renewer) wake = Math.min(wake, this.renewer.nextWakeAt());
    wake = Math.min(wake, this.proposersDueAt);
    const acc = this.acceptor.nextWakeAt();
    return acc === null ? wake : Math.min(wake, acc);
  }

  /** One lease message from `from` (possibly this node itself) to the acceptor or a proposer. */
  deliver(from: string, msg: LeaseMessage, now: number): void {
    if (isAcceptorMessage(msg)) {
      this.routeAcceptor(this.acceptor.handle(from, msg, now));
      return;
    }
    if (msg.g === BATCH_GROUP) {
      if (this.renewer) this.routeBatch(this.renewer.handle(from, msg, now), now);
      return;
    }
    const p = this.proposers.get(msg.g);
    if (p) this.route(p.handle(from, msg, now), msg.g);
  }

  private renewalEntries(now: number): RenewalEntry[] {
    const entries: RenewalEntry[] = [];
    for (const p of this.proposers.values()) {
      const entry = p.renewalEntry(now);
      if (entry) entries.push(entry);
    }
    return entries;
  }

  private routeBatch(out: BatchOutput, now: number): void {
    if (out.unfinished) this.opts.onUnfinishedRound?.(out.unfinished);
    for (const o of out.send) this.sendLease(o);
    for (const entry of out.renewed) {
      const p = this.proposers.get(entry[0]);
      if (p) this.route(p.applyRenewal(entry, out.t0, now), entry[0]);
    }
    for (const entry of [...out.refused, ...out.stale]) {
      const p = this.proposers.get(entry[0]);
      if (p) this.route(p.renewAlone(now), entry[0]);
    }
  }

  private route(out: { send: Outgoing[]; events: LeaseEvent[] }, group: string, touch = true): void {
    const p = this.proposers.get(group);
    if (p && touch) this.touched(p);
    for (const o of out.send) this.sendLease(o);
    for (const e of out.events) this.opts.onEvent(group, e);
  }

  private touched(p: LeaseProposer): void {
    const at = p.nextWakeAt();
    if (at < this.proposersDueAt) this.proposersDueAt = at;
  }

  private routeAcceptor(out: Outgoing[]): void {
    for (const o of out) this.sendLease(o);
  }

  private sendLease(o: Outgoing): void {
    const { self, voters } = this.opts;
    const now = this.opts.now();
    const targets = o.to === BROADCAST ? voters.map((v) => v.name) : [o.to];
    for (const to of targets) {
      if (to === self.name) this.deliver(self.name, o.msg, now);
      else this.opts.send(to, o.msg);
    }
  }

  private newProposer(group: string): LeaseProposer {
    return new LeaseProposer({
      node: this.opts.self.name,
      group,
      voters: this.opts.voters.map((v) => ({ name: v.name, weight: v.weight })),
      timing: this.opts.timing,
      ballotIndex: this.opts.self.ballotIndex,
      batchRenewal: this.renewer !== null,
    });
  }
}
