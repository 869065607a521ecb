import { join } from 'node:path';
import type { HaloConfig } from '../../config/model.js';
import { HaloError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { type Clock, monotonicClock } from '../../util/clock.js';
import { DeadmanClient } from '../deadman/client.js';
import type { FenceAction } from '../deadman/fence-action.js';
import { LeaseAcceptor } from '../lease/acceptor.js';
import { termToString } from '../lease/ballot.js';
import {
  BROADCAST,
  isAcceptorMessage,
  type LeaseMessage,
  type Outgoing,
  parseLeaseMessage,
} from '../lease/messages.js';
import { type LeaseEvent, LeaseProposer } from '../lease/proposer.js';
import { type ClockAnomaly, ClockSanity, isHeartbeat, Membership } from '../membership.js';
import { leaseMath } from '../timing.js';
import { UdpTransport } from '../transport/udp-transport.js';
import type {
  ClusterIntent,
  Coordinator,
  CoordinatorEvent,
  CoordinatorView,
  GroupLeaseView,
  NodeStatus,
} from '../types.js';
import { IntentStore } from './intent-store.js';
import { linksByName, majorityWeight, type VoterInfo, votersOf } from './voters.js';

/**
 * The embedded coordination backend: this node's PaxosLease acceptor and one proposer per
 * group it may run, talking to the other nodes and the witness over the authenticated UDP
 * transport, with the deadman helper armed for every lease held. The protocol logic is in
 * lease/ (pure); this class only moves messages, runs timers and keeps the helper armed.
 */

export interface EmbeddedOptions {
  config: HaloConfig;
  node: string;
  key: Buffer;
  stateDir: string;
  log: Logger;
  clock?: Clock;
  /** Spawn the deadman helper (default true; only pure unit tests turn it off). */
  deadman?: boolean;
}

/** Wire envelope of everything but heartbeats (which Membership defines). */
type Envelope =
  | { k: 'lease'; m: LeaseMessage }
  | { k: 'intent'; entries: ClusterIntent; id?: number }
  | { k: 'intent-ack'; id: number };

const MAX_TICK_MS = 20;
const INTENT_SYNC_MS = 1000;
const INTENT_WRITE_TIMEOUT_MS = 3000;

interface PendingWrite {
  acked: Set<string>;
  resolve: () => void;
  reject: (err: Error) => void;
  entries: ClusterIntent;
  timer: NodeJS.Timeout;
}

export class EmbeddedCoordinator implements Coordinator {
  private readonly opts: EmbeddedOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly voters: VoterInfo[];
  private readonly self: VoterInfo;
  private readonly listeners = new Set<(e: CoordinatorEvent) => void>();
  private readonly proposers = new Map<string, LeaseProposer>();
  private readonly owners = new Map<string, { owner: string | null; term: string | null }>();
  private readonly fence = new Map<string, FenceAction[]>();
  private readonly held = new Map<string, { term: number; validUntil: number }>();
  private readonly pendingWrites = new Map<number, PendingWrite>();
  private readonly intentStore: IntentStore;
  private acceptor!: LeaseAcceptor;
  private membership!: Membership;
  private sanity!: ClockSanity;
  /** After a clock anomaly: no proposing before this time; candidacies wait here. */
  private proposeAfter = 0;
  private readonly deferredCandidacy = new Map<string, number | null>();
  private transport!: UdpTransport;
  private deadman: DeadmanClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private nextHeartbeat = 0;
  private nextIntentSync = 0;
  private nextWriteId = 1;
  private lastQuorum = false;
  private lastQuorumEmitted = false;
  private lastMembers = '';
  private status: NodeStatus = { eligible: true, reasons: [] };

  constructor(opts: EmbeddedOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? monotonicClock;
    this.log = opts.log.child({ component: 'coordination' });
    this.voters = votersOf(opts.config);
    const self = this.voters.find((v) => v.name === opts.node);
    if (!self) throw new HaloError('HALO_E_USAGE', `node "${opts.node}" is not in the config's nodes`);
    this.self = self;
    this.intentStore = new IntentStore(join(opts.stateDir, 'intent.json'));
  }

  async start(): Promise<void> {
    const { config } = this.opts;
    const now = this.clock.now();
    const math = leaseMath(config.cluster.timing);
    this.intentStore.load();
    this.acceptor = new LeaseAcceptor({ quarantineMs: math.quarantineMs });
    // Restart rule: vote for nobody for M, whatever this node granted before it restarted;
    // and propose nothing for M either, so that after a cold start of the whole cluster the
    // candidates race from the same moment and the rank back-off gives the group to the
    // preferred node.
    this.acceptor.boot(now);
    this.proposeAfter = now + math.quarantineMs;
    for (const group of config.groups) {
      if (group.nodes.includes(this.self.name)) this.proposers.set(group.name, this.newProposer(group.name));
    }
    this.membership = new Membership({
      self: this.self.name,
      members: this.voters.map((v) => ({ name: v.name, kind: v.kind })),
      heartbeatMs: config.cluster.timing.heartbeatMs,
      clock: this.clock,
    });
    this.membership.setSelfStatus(this.status, config.epoch);
    this.transport = new UdpTransport({
      cluster: config.cluster.name,
      epoch: config.epoch,
      self: this.self.name,
      key: this.opts.key,
      listen: this.self.links,
      peers: linksByName(this.voters, this.self.name),
      clock: this.clock,
      log: this.log,
    });
    this.sanity = new ClockSanity({ clock: this.clock });
    this.transport.onMessage((from, payloads, meta) => {
      const drift = this.sanity.observePeer(from, meta.bootId, meta.sentAt);
      if (drift) this.onClockAnomaly(drift);
      this.receive(from, payloads);
    });
    await this.transport.start();
    if (this.opts.deadman !== false) {
      this.deadman = await DeadmanClient.spawn({
        nodeName: this.self.name,
        cluster: config.cluster.name,
        epoch: config.epoch,
        key: this.opts.key,
        voters: linksByName(this.voters, this.self.name),
        log: this.log,
      });
      this.deadman.on((e) => {
        if (e.type === 'fenced')
          this.log.error({ group: e.group, confirmed: e.confirmed }, 'deadman helper fenced a group');
        if (e.type === 'exit' && !e.expected)
          this.log.error({ code: e.code }, 'deadman helper exited unexpectedly');
      });
    }
    this.running = true;
    this.log.info(
      { node: this.self.name, quarantineMs: Math.round(math.quarantineMs) },
      'coordination started',
    );
    this.tick();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.pendingWrites.values()) {
      clearTimeout(w.timer);
      w.reject(new HaloError('HALO_E_NO_QUORUM', 'the agent is stopping'));
    }
    this.pendingWrites.clear();
    await this.deadman?.stop();
    await this.transport?.stop();
  }

  on(listener: (event: CoordinatorEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setCandidacy(group: string, rank: number | null): void {
    if (this.clock.now() < this.proposeAfter) {
      this.deferredCandidacy.set(group, rank);
      return;
    }
    const p = this.proposers.get(group);
    if (!p || p.candidacy() === rank) return;
    p.setCandidacy(rank);
    this.kick();
  }

  async release(group: string): Promise<void> {
    const p = this.proposers.get(group);
    this.held.delete(group);
    if (p) this.route(p.release(this.clock.now()), group);
    this.transport.flush();
    await this.deadman?.disarm(group).catch(() => undefined);
    this.updateOwners();
  }

  abandon(group: string): void {
    const old = this.proposers.get(group);
    if (!old) return;
    // A fresh proposer without candidacy: it neither renews nor releases. The acceptors keep
    // the old lease until it expires and the deadman stays armed with the last deadline.
    this.proposers.set(group, this.newProposer(group));
    this.log.error(
      { group },
      'abandoning the lease after a failed stop: the deadman helper fences at the deadline',
    );
  }

  setFenceActions(group: string, actions: FenceAction[]): void {
    this.fence.set(group, actions);
    const held = this.held.get(group);
    if (held) void this.arm(group, held.term, held.validUntil);
  }

  setNodeStatus(status: NodeStatus): void {
    this.status = { eligible: status.eligible, reasons: [...status.reasons] };
    this.membership?.setSelfStatus(this.status, this.opts.config.epoch);
    this.nextHeartbeat = 0;
    this.kick();
  }

  intent(): ClusterIntent {
    return this.intentStore.snapshot();
  }

  updateIntent(values: Record<string, unknown>): Promise<void> {
    const entries = this.intentStore.prepare(values, this.self.ballotIndex);
    if (this.intentStore.merge(entries)) this.emit({ type: 'intent', intent: this.intent() });
    const id = this.nextWriteId++;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingWrites.delete(id);
        reject(
          new HaloError(
            'HALO_E_NO_QUORUM',
            'the change is saved on this node but a majority of voters did not confirm it; it spreads when they are reachable',
            {
              keys: Object.keys(values),
            },
          ),
        );
      }, INTENT_WRITE_TIMEOUT_MS);
      const write: PendingWrite = { acked: new Set([this.self.name]), resolve, reject, entries, timer };
      this.pendingWrites.set(id, write);
      this.sendIntentWrite(id, write);
      this.checkWrite(id);
    });
  }

  private readonly renewals = { count: 0, sumMs: 0 };

  view(): CoordinatorView {
    const now = this.clock.now();
    const leases: GroupLeaseView[] = this.opts.config.groups.map((g) => {
      const o = this.owners.get(g.name) ?? { owner: null, term: null };
      const held = this.held.get(g.name);
      return {
        group: g.name,
        owner: o.owner,
        term: o.term,
        validForMs: held ? Math.max(0, Math.round(held.validUntil - now)) : null,
      };
    });
    return {
      node: this.self.name,
      quorum: this.hasQuorum(),
      quarantined: this.acceptor?.isQuarantined(now) ?? true,
      members: this.membership?.view() ?? [],
      leases,
      droppedMessages: { ...(this.transport?.stats().dropped ?? {}) },
      leaseRenewals: { ...this.renewals },
    };
  }

  /**
   * A suspend (boottime jumped, monotonic did not) or a peer whose clock rate is far outside ρ
   * breaks the timing assumptions: drop every lease at once and re-enter the restart
   * quarantine (COORDINATION.md "Pause and clock sanity").
   */
  private onClockAnomaly(anomaly: ClockAnomaly): void {
    this.log.error({ anomaly }, 'clock anomaly: dropping every lease and entering quarantine');
    const now = this.clock.now();
    this.acceptor.boot(now);
    // Nor does this node propose during the quarantine: its own old lease may still be
    // reported by acceptors, and a fresh proposer would take that as an extension.
    this.proposeAfter = now + leaseMath(this.opts.config.cluster.timing).quarantineMs;
    for (const [group, old] of this.proposers) {
      const held = this.held.get(group);
      this.deferredCandidacy.set(group, this.deferredCandidacy.get(group) ?? old.candidacy());
      this.proposers.set(group, this.newProposer(group));
      if (held) {
        this.held.delete(group);
        this.emit({
          type: 'demote',
          group,
          term: termToString(held.term),
          reason: `clock anomaly: ${anomaly.kind}`,
        });
      }
    }
  }

  private newProposer(group: string): LeaseProposer {
    return new LeaseProposer({
      node: this.self.name,
      group,
      voters: this.voters.map((v) => ({ name: v.name, weight: v.weight })),
      timing: this.opts.config.cluster.timing,
      ballotIndex: this.self.ballotIndex,
    });
  }

  /** Run a tick as soon as possible (after a state change). */
  private kick(): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), 0);
  }

  private tick(): void {
    if (!this.running) return;
    for (const anomaly of this.sanity.tick()) this.onClockAnomaly(anomaly);
    const now = this.clock.now();
    if (this.deferredCandidacy.size > 0 && now >= this.proposeAfter) {
      const deferred = [...this.deferredCandidacy];
      this.deferredCandidacy.clear();
      for (const [group, rank] of deferred) this.proposers.get(group)?.setCandidacy(rank);
    }
    for (const [group, p] of this.proposers) this.route(p.tick(now), group);
    this.routeAcceptor(this.acceptor.tick(now));
    if (now >= this.nextHeartbeat) {
      this.nextHeartbeat = now + this.opts.config.cluster.timing.heartbeatMs;
      for (const v of this.voters)
        if (v.name !== this.self.name) this.transport.send(v.name, this.membership.heartbeatFor(v.name));
    }
    if (now >= this.nextIntentSync) {
      this.nextIntentSync = now + INTENT_SYNC_MS;
      const entries = this.intent();
      if (Object.keys(entries).length > 0) this.broadcast({ k: 'intent', entries });
      for (const [id, w] of this.pendingWrites) this.sendIntentWrite(id, w);
    }
    this.updateOwners();
    const quorum = this.hasQuorum();
    if (quorum !== this.lastQuorum) {
      this.lastQuorum = quorum;
      this.log.info({ quorum }, quorum ? 'quorum gained' : 'quorum lost');
    }
    // A peer that falls silent sends nothing, so up/down changes are found here, by comparing.
    const members = this.membership
      .view()
      .map((m) => `${m.name}:${m.up ? 1 : 0}${m.eligible ? 1 : 0}`)
      .join(',');
    if (members !== this.lastMembers || quorum !== this.lastQuorumEmitted) {
      this.lastMembers = members;
      this.lastQuorumEmitted = quorum;
      this.emit({ type: 'membership', view: this.view() });
    }
    this.transport.flush();
    let wake = now + MAX_TICK_MS;
    for (const p of this.proposers.values()) wake = Math.min(wake, p.nextWakeAt());
    const acc = this.acceptor.nextWakeAt();
    if (acc !== null) wake = Math.min(wake, acc);
    this.timer = setTimeout(() => this.tick(), Math.max(1, wake - this.clock.now()));
  }

  private receive(from: string, payloads: unknown[]): void {
    const now = this.clock.now();
    for (const payload of payloads) {
      if (isHeartbeat(payload)) {
        if (this.membership.onHeartbeat(from, payload)) this.emit({ type: 'membership', view: this.view() });
        continue;
      }
      const env = payload as Envelope;
      if (env?.k === 'lease') {
        const msg = parseLeaseMessage(env.m);
        if (msg) this.deliver(from, msg, now);
      } else if (env?.k === 'intent' && typeof env.entries === 'object' && env.entries !== null) {
        if (this.intentStore.merge(env.entries)) this.emit({ type: 'intent', intent: this.intent() });
        if (typeof env.id === 'number')
          this.transport.send(from, { k: 'intent-ack', id: env.id } satisfies Envelope);
      } else if (env?.k === 'intent-ack' && typeof env.id === 'number') {
        this.pendingWrites.get(env.id)?.acked.add(from);
        this.checkWrite(env.id);
      }
    }
    this.updateOwners();
    this.transport.flush();
  }

  /** One lease message from `from` (possibly this node itself) to the acceptor or a proposer. */
  private deliver(from: string, msg: LeaseMessage, now: number): void {
    if (isAcceptorMessage(msg)) {
      this.routeAcceptor(this.acceptor.handle(from, msg, now));
      return;
    }
    const p = this.proposers.get(msg.g);
    if (p) this.route(p.handle(from, msg, now), msg.g);
  }

  private route(out: { send: Outgoing[]; events: LeaseEvent[] }, group: string): void {
    for (const o of out.send) this.sendLease(o);
    for (const e of out.events) this.onLeaseEvent(group, e);
  }

  private routeAcceptor(out: Outgoing[]): void {
    for (const o of out) this.sendLease(o);
  }

  private sendLease(o: Outgoing): void {
    const now = this.clock.now();
    const targets = o.to === BROADCAST ? this.voters.map((v) => v.name) : [o.to];
    for (const to of targets) {
      if (to === this.self.name) this.deliver(this.self.name, o.msg, now);
      else this.transport.send(to, { k: 'lease', m: o.msg } satisfies Envelope);
    }
  }

  private onLeaseEvent(group: string, e: LeaseEvent): void {
    switch (e.type) {
      case 'acquired':
        this.held.set(group, { term: e.term, validUntil: e.validUntil });
        void this.arm(group, e.term, e.validUntil);
        this.log.info({ group, term: termToString(e.term) }, 'lease acquired');
        this.emit({ type: 'acquired', group, term: termToString(e.term) });
        break;
      case 'extended':
        this.held.set(group, { term: e.term, validUntil: e.validUntil });
        // The round started at t0 = validUntil − V; its time is the renewal latency (a metric).
        this.renewals.count++;
        this.renewals.sumMs +=
          this.clock.now() - (e.validUntil - leaseMath(this.opts.config.cluster.timing).validityMs);
        void this.arm(group, e.term, e.validUntil);
        break;
      case 'demote':
        this.held.delete(group);
        this.log.warn({ group, term: termToString(e.term), reason: e.reason }, 'lease lost: demoting');
        this.emit({ type: 'demote', group, term: termToString(e.term), reason: e.reason });
        break;
      case 'ownerSeen':
        this.setOwner(group, e.owner, termToString(e.term));
        break;
    }
  }

  /** Keeps the deadman helper's deadline at t0 + V − gh of the latest renewal. */
  private async arm(group: string, term: number, validUntil: number): Promise<void> {
    if (!this.deadman) return;
    const math = leaseMath(this.opts.config.cluster.timing);
    const deadline = validUntil - (math.validityMs - math.deadmanAtMs);
    const releasePayload: Envelope = {
      k: 'lease',
      m: { type: 'release', g: group, owner: this.self.name, term },
    };
    try {
      await this.deadman.arm(group, {
        deadlineMonoMs: deadline,
        actions: this.fence.get(group) ?? [],
        releasePayload,
      });
    } catch (err) {
      this.log.error({ group, err: (err as Error).message }, 'could not arm the deadman helper');
    }
  }

  private updateOwners(): void {
    if (!this.acceptor) return;
    const now = this.clock.now();
    for (const g of this.opts.config.groups) {
      const held = this.held.get(g.name);
      if (held && held.validUntil > now) {
        this.setOwner(g.name, this.self.name, termToString(held.term));
        continue;
      }
      const acc = this.acceptor.view(g.name, now).accepted;
      if (acc) this.setOwner(g.name, acc.owner, termToString(acc.term));
      else if (this.owners.get(g.name)?.owner === this.self.name || !this.acceptor.isQuarantined(now)) {
        this.setOwner(g.name, null, null);
      }
    }
  }

  private setOwner(group: string, owner: string | null, term: string | null): void {
    const prev = this.owners.get(group);
    if (prev && prev.owner === owner && prev.term === term) return;
    this.owners.set(group, { owner, term });
    this.emit({ type: 'owner', group, owner, term });
  }

  private hasQuorum(): boolean {
    if (!this.membership) return false;
    const up = this.voters.filter((v) => v.name === this.self.name || this.membership.isUp(v.name));
    return up.reduce((s, v) => s + v.weight, 0) >= majorityWeight(this.voters);
  }

  private broadcast(env: Envelope): void {
    for (const v of this.voters) if (v.name !== this.self.name) this.transport.send(v.name, env);
  }

  private sendIntentWrite(id: number, w: PendingWrite): void {
    for (const v of this.voters)
      if (!w.acked.has(v.name))
        this.transport.send(v.name, { k: 'intent', entries: w.entries, id } satisfies Envelope);
    this.transport.flush();
  }

  private checkWrite(id: number): void {
    const w = this.pendingWrites.get(id);
    if (!w) return;
    const weight = this.voters.filter((v) => w.acked.has(v.name)).reduce((s, v) => s + v.weight, 0);
    if (weight >= majorityWeight(this.voters)) {
      clearTimeout(w.timer);
      this.pendingWrites.delete(id);
      w.resolve();
    }
  }

  private emit(event: CoordinatorEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.log.error({ err: (err as Error).message, event: event.type }, 'coordinator listener failed');
      }
    }
  }
}
