import { join } from 'node:path';
import type { HaloConfig } from '../../config/model.js';
import { HaloError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { monotonicTimers, type TimerClock } from '../../util/clock.js';
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
import { type ClockAnomaly, ClockSanity, isHeartbeat } from '../membership.js';
import { CoordinatorShell } from '../shell/coordinator-shell.js';
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
import { type IntentEnvelope, IntentSync } from './intent-sync.js';
import { ownerToShow } from './owner-view.js';
import { PeerStatus } from './peer-status.js';
import { ProposeGate } from './propose-gate.js';
import { linksByName, type VoterInfo, votersOf } from './voters.js';

/**
 * The embedded coordination backend: this node's PaxosLease acceptor and one proposer per
 * group it may run, talking to the other nodes and the witness over the authenticated UDP
 * transport, with the deadman helper armed for every lease held. The decisions are pure and
 * live elsewhere: the lease protocol in lease/, intent replication in intent-replication.ts,
 * the restart and clock-anomaly policy in propose-gate.ts. This class only moves messages,
 * runs timers and keeps the helper armed, through the shared shell.
 */

export interface EmbeddedOptions {
  config: HaloConfig;
  node: string;
  key: Buffer;
  stateDir: string;
  log: Logger;
  clock?: TimerClock;
  /** Spawn the deadman helper (default true; only pure unit tests turn it off). */
  deadman?: boolean;
}

/** Wire envelope of everything but heartbeats (which Membership defines). */
type Envelope = { k: 'lease'; m: LeaseMessage } | IntentEnvelope;

const MAX_TICK_MS = 20;
const INTENT_SYNC_MS = 1000;
const INTENT_WRITE_TIMEOUT_MS = 3000;

export class EmbeddedCoordinator implements Coordinator {
  private readonly opts: EmbeddedOptions;
  private readonly shell: CoordinatorShell;
  private readonly voters: VoterInfo[];
  private readonly self: VoterInfo;
  private readonly proposers = new Map<string, LeaseProposer>();
  private readonly held = new Map<string, { term: number; validUntil: number }>();
  private readonly gate: ProposeGate;
  private readonly intents: IntentSync;
  private acceptor!: LeaseAcceptor;
  private peers: PeerStatus | undefined;
  private sanity!: ClockSanity;
  private transport!: UdpTransport;
  private cancelTick: (() => void) | undefined;
  private nextIntentSync = 0;
  private status: NodeStatus = { eligible: true, reasons: [] };
  private readonly renewals = { count: 0, sumMs: 0 };

  constructor(opts: EmbeddedOptions) {
    this.opts = opts;
    this.shell = new CoordinatorShell({
      log: opts.log.child({ component: 'coordination' }),
      clock: opts.clock ?? monotonicTimers,
      view: () => this.view(),
    });
    this.voters = votersOf(opts.config);
    const self = this.voters.find((v) => v.name === opts.node);
    if (!self) throw new HaloError('HALO_E_USAGE', `node "${opts.node}" is not in the config's nodes`);
    this.self = self;
    this.intents = new IntentSync({
      self: self.name,
      voterIndex: self.ballotIndex,
      voters: this.voters,
      file: join(opts.stateDir, 'intent.json'),
      timeoutMs: INTENT_WRITE_TIMEOUT_MS,
      send: (to, env) => this.transport.send(to, env),
      flush: () => this.transport.flush(),
      changed: () => this.shell.emit({ type: 'intent', intent: this.intent() }),
    });
    this.gate = new ProposeGate(leaseMath(opts.config.cluster.timing).quarantineMs);
  }

  private get log() {
    return this.shell.log;
  }

  private now(): number {
    return this.shell.clock.now();
  }

  async start(): Promise<void> {
    const { config } = this.opts;
    this.shell.enter('starting');
    const now = this.now();
    const math = leaseMath(config.cluster.timing);
    this.intents.load();
    this.acceptor = new LeaseAcceptor({ quarantineMs: math.quarantineMs });
    // Restart rule: vote for nobody and propose nothing for M, whatever this node granted
    // before it restarted (see ProposeGate for why proposing waits too).
    this.acceptor.boot(now);
    this.gate.boot(now);
    for (const group of config.groups) {
      if (group.nodes.includes(this.self.name)) this.proposers.set(group.name, this.newProposer(group.name));
    }
    this.peers = new PeerStatus({
      self: this.self.name,
      voters: this.voters,
      heartbeatMs: config.cluster.timing.heartbeatMs,
      epoch: config.epoch,
      clock: this.shell.clock,
      status: this.status,
    });
    this.transport = new UdpTransport({
      cluster: config.cluster.name,
      epoch: config.epoch,
      self: this.self.name,
      key: this.opts.key,
      listen: this.self.links,
      peers: linksByName(this.voters, this.self.name),
      clock: this.shell.clock,
      log: this.log,
    });
    this.sanity = new ClockSanity({ clock: this.shell.clock });
    this.transport.onMessage((from, payloads, meta) => {
      const drift = this.sanity.observePeer(from, meta.bootId, meta.sentAt);
      if (drift) this.onClockAnomaly(drift);
      this.receive(from, payloads);
    });
    try {
      await this.transport.start();
      if (this.opts.deadman !== false) {
        await this.shell.spawnDeadman({
          nodeName: this.self.name,
          cluster: config.cluster.name,
          epoch: config.epoch,
          key: this.opts.key,
          voters: linksByName(this.voters, this.self.name),
        });
      }
      if (!this.shell.stillStarting)
        throw new HaloError('HALO_E_INTERNAL', 'coordination was stopped while it was starting');
    } catch (err) {
      await this.transport.stop().catch(() => undefined);
      await this.shell.finish();
      throw err;
    }
    this.shell.enter('running');
    this.log.info(
      { node: this.self.name, quarantineMs: Math.round(math.quarantineMs) },
      'coordination started',
    );
    this.tick();
  }

  async stop(): Promise<void> {
    if (this.shell.lifecycle === 'idle' || this.shell.lifecycle === 'stopped') return;
    await this.shell.quiesce();
    this.intents.cancelAll();
    await this.shell.finish();
    await this.transport?.stop();
  }

  on(listener: (event: CoordinatorEvent) => void): () => void {
    return this.shell.on(listener);
  }

  setCandidacy(group: string, rank: number | null): void {
    if (!this.gate.offer(group, rank, this.now())) return;
    const p = this.proposers.get(group);
    if (!p || p.candidacy() === rank) return;
    p.setCandidacy(rank);
    this.kick();
  }

  async release(group: string): Promise<void> {
    const p = this.proposers.get(group);
    this.held.delete(group);
    if (p) this.route(p.release(this.now()), group);
    this.transport.flush();
    await this.shell.disarmDeadman(group);
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
    this.shell.setFenceActions(group, actions);
    const held = this.held.get(group);
    if (held) this.arm(group, held.term, held.validUntil);
  }

  setNodeStatus(status: NodeStatus): void {
    this.status = { eligible: status.eligible, reasons: [...status.reasons] };
    this.peers?.setSelfStatus(this.status);
    this.kick();
  }

  intent(): ClusterIntent {
    return this.intents.snapshot();
  }

  updateIntent(values: Record<string, unknown>): Promise<void> {
    return this.intents.write(values, this.now());
  }

  view(): CoordinatorView {
    const now = this.now();
    const leases: GroupLeaseView[] = this.opts.config.groups.map((g) => {
      const held = this.held.get(g.name);
      return {
        group: g.name,
        ...this.shell.owner(g.name),
        validForMs: held ? Math.max(0, Math.round(held.validUntil - now)) : null,
      };
    });
    return {
      node: this.self.name,
      quorum: this.peers?.hasQuorum() ?? false,
      quarantined: this.acceptor?.isQuarantined(now) ?? true,
      members: this.peers?.view() ?? [],
      leases,
      droppedMessages: { ...(this.transport?.stats().dropped ?? {}) },
      leaseRenewals: { ...this.renewals },
    };
  }

  /** Drops every lease at once and quarantines again (the policy is {@link ProposeGate}'s). */
  private onClockAnomaly(anomaly: ClockAnomaly): void {
    this.log.error({ anomaly }, 'clock anomaly: dropping every lease and entering quarantine');
    const now = this.now();
    this.acceptor.boot(now);
    const standing = [...this.proposers].map(([group, p]) => ({
      group,
      rank: p.candidacy(),
      heldTerm: this.held.get(group)?.term ?? null,
    }));
    const plan = this.gate.onAnomaly(anomaly, standing, now);
    for (const group of this.proposers.keys()) this.proposers.set(group, this.newProposer(group));
    for (const d of plan.demote) {
      this.held.delete(d.group);
      this.shell.emit({ type: 'demote', group: d.group, term: termToString(d.term), reason: d.reason });
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
    if (!this.shell.running) return;
    this.cancelTick?.();
    this.cancelTick = this.shell.after(0, () => this.tick());
  }

  private tick(): void {
    if (!this.shell.running) return;
    for (const anomaly of this.sanity.tick()) this.onClockAnomaly(anomaly);
    const now = this.now();
    for (const [group, rank] of this.gate.due(now)) this.proposers.get(group)?.setCandidacy(rank);
    for (const [group, p] of this.proposers) this.route(p.tick(now), group);
    this.routeAcceptor(this.acceptor.tick(now));
    const exchange = now >= this.nextIntentSync;
    if (exchange) this.nextIntentSync = now + INTENT_SYNC_MS;
    this.intents.tick(now, exchange);
    this.updateOwners();
    const peers = this.peers!.tick(now);
    for (const h of peers.heartbeats) this.transport.send(h.to, h.message);
    if (peers.quorumChanged !== null)
      this.log.info({ quorum: peers.quorumChanged }, peers.quorumChanged ? 'quorum gained' : 'quorum lost');
    if (peers.membershipChanged) this.shell.emit({ type: 'membership' });
    this.transport.flush();
    let wake = now + MAX_TICK_MS;
    for (const p of this.proposers.values()) wake = Math.min(wake, p.nextWakeAt());
    const acc = this.acceptor.nextWakeAt();
    if (acc !== null) wake = Math.min(wake, acc);
    this.cancelTick = this.shell.after(Math.max(1, wake - this.now()), () => this.tick());
  }

  private receive(from: string, payloads: unknown[]): void {
    const now = this.now();
    for (const payload of payloads) {
      if (isHeartbeat(payload)) {
        if (this.peers?.onHeartbeat(from, payload)) this.shell.emit({ type: 'membership' });
        continue;
      }
      const env = payload as Envelope;
      if (env?.k === 'lease') {
        const msg = parseLeaseMessage(env.m);
        if (msg) this.deliver(from, msg, now);
      } else this.intents.receive(from, payload);
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
    const now = this.now();
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
        this.arm(group, e.term, e.validUntil);
        this.log.info({ group, term: termToString(e.term) }, 'lease acquired');
        this.shell.emit({ type: 'acquired', group, term: termToString(e.term) });
        break;
      case 'extended':
        this.held.set(group, { term: e.term, validUntil: e.validUntil });
        // The round started at t0 = validUntil − V; its time is the renewal latency (a metric).
        this.renewals.count++;
        this.renewals.sumMs +=
          this.now() - (e.validUntil - leaseMath(this.opts.config.cluster.timing).validityMs);
        this.arm(group, e.term, e.validUntil);
        break;
      case 'demote':
        this.held.delete(group);
        this.log.warn({ group, term: termToString(e.term), reason: e.reason }, 'lease lost: demoting');
        this.shell.emit({ type: 'demote', group, term: termToString(e.term), reason: e.reason });
        break;
      case 'ownerSeen':
        this.shell.setOwner(group, e.owner, termToString(e.term));
        break;
    }
  }

  /** Keeps the deadman helper's deadline at t0 + V − gh of the latest renewal. */
  private arm(group: string, term: number, validUntil: number): void {
    const math = leaseMath(this.opts.config.cluster.timing);
    const releasePayload: Envelope = {
      k: 'lease',
      m: { type: 'release', g: group, owner: this.self.name, term },
    };
    this.shell.armDeadman(group, validUntil - (math.validityMs - math.deadmanAtMs), releasePayload);
  }

  private updateOwners(): void {
    if (!this.acceptor) return;
    const now = this.now();
    for (const g of this.opts.config.groups) {
      const show = ownerToShow({
        self: this.self.name,
        now,
        held: this.held.get(g.name),
        accepted: this.acceptor.view(g.name, now).accepted,
        shown: this.shell.owner(g.name).owner,
        quarantined: this.acceptor.isQuarantined(now),
      });
      if (show) this.shell.setOwner(g.name, show.owner, show.term === null ? null : termToString(show.term));
    }
  }
}
