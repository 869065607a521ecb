import type { Clock } from '../util/clock.js';
import type { MemberView, NodeStatus } from './types.js';

/**
 * Who is up, eligible and how far away. Heartbeats only inform the UI and candidate ranking;
 * safety never depends on them, it comes from the leases. Pure apart from the injected clock: the
 * coordinator sends `heartbeatFor(peer)` to each peer every heartbeat period and feeds what it
 * receives to `onHeartbeat`.
 *
 * RTT without synchronised clocks: each heartbeat carries the sender's monotonic `ping`; the
 * receiver echoes the last ping it heard from that peer with how long it held it, so the
 * original sender measures `now − ping − heldMs` on its own clock.
 */

export interface HeartbeatMessage {
  type: 'heartbeat';
  eligible: boolean;
  reasons: string[];
  configEpoch: number;
  /** Sender's monotonic ms when it built the heartbeat. */
  ping: number;
  /** The receiver's last ping as heard by the sender, and how long the sender held it. */
  echo?: { ping: number; heldMs: number };
  /** How long ago the sender started (its cold-start wait is timed from that). */
  upMs?: number;
  /** The sender is past its cold-start wait: the cluster is running (nodes only). */
  settled?: boolean;
}

export function isHeartbeat(x: unknown): x is HeartbeatMessage {
  if (typeof x !== 'object' || x === null) return false;
  const m = x as Record<string, unknown>;
  if (m['type'] !== 'heartbeat' || typeof m['eligible'] !== 'boolean') return false;
  if (!Array.isArray(m['reasons']) || !m['reasons'].every((r) => typeof r === 'string')) return false;
  if (!Number.isSafeInteger(m['configEpoch']) || !Number.isFinite(m['ping'])) return false;
  if (m['upMs'] !== undefined && !(Number.isFinite(m['upMs']) && (m['upMs'] as number) >= 0)) return false;
  if (m['settled'] !== undefined && typeof m['settled'] !== 'boolean') return false;
  const echo = m['echo'];
  if (echo === undefined) return true;
  if (typeof echo !== 'object' || echo === null) return false;
  const e = echo as Record<string, unknown>;
  return Number.isFinite(e['ping']) && Number.isFinite(e['heldMs']);
}

export interface MembershipOptions {
  self: string;
  /** Every voter, including this node. */
  members: ReadonlyArray<{ name: string; kind: 'node' | 'witness' }>;
  heartbeatMs: number;
  clock: Clock;
}

interface PeerState {
  kind: 'node' | 'witness';
  lastSeen: number | null;
  eligible: boolean;
  reasons: string[];
  configEpoch: number | null;
  rttMs: number | null;
  /** Last ping heard from this peer and when, to echo back. */
  heardPing: { ping: number; at: number } | null;
  /** When the peer started, on our clock (from its upMs). */
  startedAt: number | null;
  settled: boolean;
}

/** A peer as the cold-start wait sees it. */
export interface PeerSighting {
  name: string;
  kind: 'node' | 'witness';
  up: boolean;
  startedAt: number | null;
  settled: boolean;
}

/** Heard within this many heartbeat periods = up. */
export const UP_PERIODS = 3;
/** RTT smoothing gain, as TCP's SRTT (RFC 6298 §2). */
const RTT_ALPHA = 1 / 8;

export class Membership {
  private readonly opts: MembershipOptions;
  private readonly peers = new Map<string, PeerState>();
  private selfStatus: NodeStatus = { eligible: true, reasons: [] };
  private selfEpoch = 0;
  private selfSettled: boolean | undefined;
  private readonly startedAt: number;

  constructor(opts: MembershipOptions) {
    this.opts = opts;
    this.startedAt = opts.clock.now();
    for (const m of opts.members) {
      if (m.name === opts.self) continue;
      this.peers.set(m.name, {
        kind: m.kind,
        lastSeen: null,
        eligible: m.kind === 'witness',
        reasons: [],
        configEpoch: null,
        rttMs: null,
        heardPing: null,
        startedAt: null,
        settled: false,
      });
    }
  }

  setSelfStatus(status: NodeStatus, configEpoch: number): void {
    this.selfStatus = { eligible: status.eligible, reasons: [...status.reasons] };
    this.selfEpoch = configEpoch;
  }

  /** Whether this node is past its cold-start wait (said in every heartbeat from now on). */
  setSelfSettled(settled: boolean): void {
    this.selfSettled = settled;
  }

  /** The heartbeat to send to `peer` now (the echo differs per peer). */
  heartbeatFor(peer: string): HeartbeatMessage {
    const now = this.opts.clock.now();
    const hb: HeartbeatMessage = {
      type: 'heartbeat',
      eligible: this.selfStatus.eligible,
      reasons: this.selfStatus.reasons,
      configEpoch: this.selfEpoch,
      ping: now,
      upMs: Math.max(0, now - this.startedAt),
    };
    if (this.selfSettled !== undefined) hb.settled = this.selfSettled;
    const heard = this.peers.get(peer)?.heardPing;
    if (heard) hb.echo = { ping: heard.ping, heldMs: Math.max(0, now - heard.at) };
    return hb;
  }

  /** Records a heartbeat; returns true when the peer's up/eligible state changed. */
  onHeartbeat(from: string, hb: HeartbeatMessage): boolean {
    const peer = this.peers.get(from);
    if (peer === undefined) return false;
    const now = this.opts.clock.now();
    const wasUp = this.isUpAt(peer, now);
    const wasEligible = peer.eligible;
    peer.lastSeen = now;
    peer.eligible = peer.kind === 'witness' ? true : hb.eligible;
    peer.reasons = peer.kind === 'witness' ? [] : [...hb.reasons];
    peer.configEpoch = hb.configEpoch;
    peer.heardPing = { ping: hb.ping, at: now };
    // The frame's delay makes this a little late, never early: a later start only waits longer.
    // (A peer of a version without upMs counts as started when first heard.)
    peer.startedAt = hb.upMs === undefined ? (peer.startedAt ?? now) : now - hb.upMs;
    peer.settled = hb.settled === true;
    if (hb.echo) {
      const sample = now - hb.echo.ping - hb.echo.heldMs;
      // An echo of a ping from before our restart, or a bogus one, would give nonsense.
      if (sample >= 0 && sample < UP_PERIODS * this.opts.heartbeatMs * 10) {
        peer.rttMs = peer.rttMs === null ? sample : peer.rttMs + RTT_ALPHA * (sample - peer.rttMs);
      }
    }
    return !wasUp || wasEligible !== peer.eligible;
  }

  isUp(name: string): boolean {
    if (name === this.opts.self) return true;
    const peer = this.peers.get(name);
    return peer !== undefined && this.isUpAt(peer, this.opts.clock.now());
  }

  /** Every peer with what its heartbeats said about its start. */
  sightings(): PeerSighting[] {
    const now = this.opts.clock.now();
    return [...this.peers].map(([name, p]) => ({
      name,
      kind: p.kind,
      up: this.isUpAt(p, now),
      startedAt: p.startedAt,
      settled: p.settled,
    }));
  }

  /** Names of members (this node included) currently up. */
  upMembers(): string[] {
    const now = this.opts.clock.now();
    const up = [this.opts.self];
    for (const [name, peer] of this.peers) if (this.isUpAt(peer, now)) up.push(name);
    return up;
  }

  view(): MemberView[] {
    const now = this.opts.clock.now();
    return this.opts.members.map((m): MemberView => {
      if (m.name === this.opts.self) {
        return {
          name: m.name,
          kind: m.kind,
          up: true,
          eligible: m.kind === 'witness' ? true : this.selfStatus.eligible,
          reasons: [...this.selfStatus.reasons],
          lastSeenAgoMs: 0,
          rttMs: null,
          configEpoch: this.selfEpoch,
        };
      }
      const p = this.peers.get(m.name)!;
      return {
        name: m.name,
        kind: p.kind,
        up: this.isUpAt(p, now),
        eligible: p.eligible,
        reasons: [...p.reasons],
        lastSeenAgoMs: p.lastSeen === null ? null : Math.round(now - p.lastSeen),
        rttMs: p.rttMs === null ? null : Math.round(p.rttMs * 100) / 100,
        configEpoch: p.configEpoch,
      };
    });
  }

  private isUpAt(peer: PeerState, now: number): boolean {
    return peer.lastSeen !== null && now - peer.lastSeen <= UP_PERIODS * this.opts.heartbeatMs;
  }
}

// Clock sanity has its own module; re-exported here, where its users have always found it.
export { type ClockAnomaly, ClockSanity, type ClockSanityOptions, readProcUptimeMs } from './clock-sanity.js';
