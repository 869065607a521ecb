import type { Clock } from '../../util/clock.js';
import { type HeartbeatMessage, Membership, type PeerSighting } from '../membership.js';
import type { MemberView, NodeStatus } from '../types.js';
import { majorityWeight, type VoterInfo } from './voters.js';

export interface PeerStatusOptions {
  self: string;
  voters: readonly VoterInfo[];
  heartbeatMs: number;
  epoch: number;
  clock: Clock;
  /** This node's eligibility at start. */
  status: NodeStatus;
}

/** What one heartbeat tick found out. */
export interface PeerTick {
  /** Heartbeats due now, per peer. */
  heartbeats: Array<{ to: string; message: HeartbeatMessage }>;
  /** Quorum changed since the last tick (for the log); null when it did not. */
  quorumChanged: boolean | null;
  /** Something listeners show changed (a peer up/down or eligible, or quorum). */
  membershipChanged: boolean;
}

/**
 * The embedded backend's view of its peers: heartbeats to send, who is up and eligible, and
 * whether the voters this node hears make a majority. A silent peer sends nothing, so changes
 * are found by comparing each tick with the last.
 */
export class PeerStatus {
  private readonly opts: PeerStatusOptions;
  private readonly membership: Membership;
  private nextHeartbeat = 0;
  private lastQuorum = false;
  private lastQuorumEmitted = false;
  private lastMembers = '';
  private settled: boolean | undefined;

  constructor(opts: PeerStatusOptions) {
    this.opts = opts;
    this.membership = new Membership({
      self: opts.self,
      members: opts.voters.map((v) => ({ name: v.name, kind: v.kind })),
      heartbeatMs: opts.heartbeatMs,
      clock: opts.clock,
    });
    this.membership.setSelfStatus(opts.status, opts.epoch);
  }

  /** This node's eligibility changed: tell the peers at the next tick. */
  setSelfStatus(status: NodeStatus): void {
    this.membership.setSelfStatus(status, this.opts.epoch);
    this.nextHeartbeat = 0;
  }

  /** A heartbeat from `from`; true when the member view changed. */
  onHeartbeat(from: string, message: HeartbeatMessage): boolean {
    return this.membership.onHeartbeat(from, message);
  }

  view(): MemberView[] {
    return this.membership.view();
  }

  /** When the next heartbeats are due (monotonic ms). */
  nextHeartbeatAt(): number {
    return this.nextHeartbeat;
  }

  /** The other voters as the cold-start wait needs them. */
  sightings(): PeerSighting[] {
    return this.membership.sightings();
  }

  hasQuorum(): boolean {
    const { voters, self } = this.opts;
    const up = voters.filter((v) => v.name === self || this.membership.isUp(v.name));
    return up.reduce((s, v) => s + v.weight, 0) >= majorityWeight(voters);
  }

  /**
   * `settled`: this node is past its cold-start wait. Peers are told at once when it becomes
   * so, because a node that has just started joins a running cluster without waiting.
   */
  tick(now: number, settled?: boolean): PeerTick {
    if (settled !== undefined && settled !== this.settled) {
      this.settled = settled;
      this.membership.setSelfSettled(settled);
      this.nextHeartbeat = 0;
    }
    const heartbeats: PeerTick['heartbeats'] = [];
    if (now >= this.nextHeartbeat) {
      this.nextHeartbeat = now + this.opts.heartbeatMs;
      for (const v of this.opts.voters)
        if (v.name !== this.opts.self)
          heartbeats.push({ to: v.name, message: this.membership.heartbeatFor(v.name) });
    }
    const quorum = this.hasQuorum();
    let quorumChanged: boolean | null = null;
    if (quorum !== this.lastQuorum) {
      this.lastQuorum = quorum;
      quorumChanged = quorum;
    }
    const members = this.membership
      .view()
      .map((m) => `${m.name}:${m.up ? 1 : 0}${m.eligible ? 1 : 0}`)
      .join(',');
    const membershipChanged = members !== this.lastMembers || quorum !== this.lastQuorumEmitted;
    this.lastMembers = members;
    this.lastQuorumEmitted = quorum;
    return { heartbeats, quorumChanged, membershipChanged };
  }
}
