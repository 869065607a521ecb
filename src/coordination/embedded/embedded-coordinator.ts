import { join } from 'node:path';
import type { HaloConfig } from '../../config/model.js';
import { HaloError } from '../../errors.js';
import { childLogger, type Logger } from '../../log.js';
import { monotonicTimers, type TimerClock } from '../../util/clock.js';
import type { FenceAction } from '../deadman/fence-action.js';
import { lifelinePath } from '../deadman/lifeline.js';
import { termToString } from '../lease/ballot.js';
import type { UnfinishedRound } from '../lease/batch-renewer.js';
import { type LeaseMessage, parseLeaseMessage } from '../lease/messages.js';
import type { LeaseEvent } from '../lease/proposer.js';
import { type ClockAnomaly, ClockSanity, isHeartbeat } from '../membership.js';
import { CoordinatorShell } from '../shell/coordinator-shell.js';
import { leaseMath } from '../timing.js';
import type { UdpTransport } from '../transport/udp-transport.js';
import type { ClusterIntent, Coordinator, CoordinatorEvent, CoordinatorView, NodeStatus } from '../types.js';
import { CandidacyFilter } from './candidacy-filter.js';
import { type IntentEnvelope, IntentSync } from './intent-sync.js';
import { LeaseRoles } from './lease-roles.js';
import { networkParts } from './network-parts.js';
import { type HeldLease, leaseViews, showOwners } from './owner-view.js';
import type { PeerStatus } from './peer-status.js';
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

/**
 * The tick sleeps until the next thing is due (a renewal, a heartbeat, a deadline), but never
 * longer than this: membership changes (a peer falling silent) and a suspend are noticed within
 * it. Incoming frames check the clock too (see `checkClock`).
 */
const IDLE_TICK_MS = 100;
/**
 * Incoming frames refresh the shown owners through the next tick, at most this much later, not
 * one pass over every group per frame: a thousand groups being acquired bring thousands of
 * frames a second, and a pass per frame kept the worker busy for seconds (renewals ran late).
 */
const OWNERS_REFRESH_MS = 25;
/** Clock checks read /proc/uptime twice; its resolution is 10 ms, so more often tells nothing. */
const CLOCK_CHECK_MS = 10;
const INTENT_SYNC_MS = 1000;
const INTENT_WRITE_TIMEOUT_MS = 3000;

export class EmbeddedCoordinator implements Coordinator {
  private readonly opts: EmbeddedOptions;
  private readonly shell: CoordinatorShell;
  private readonly voters: VoterInfo[];
  private readonly self: VoterInfo;
  private readonly held = new Map<string, HeldLease>();
  /** What the owners shown were last computed from (see updateOwners). */
  private ownersShownFrom = { acceptor: -1, held: -1, quarantined: true, until: 0 };
  private heldVersion = 0;
  private readonly groupNames: readonly string[];
  private readonly gate: ProposeGate;
  private readonly intents: IntentSync;
  private roles!: LeaseRoles;
  private peers: PeerStatus | undefined;
  private sanity!: ClockSanity;
  private lastClockCheck = Number.NEGATIVE_INFINITY;
  private unfinishedLogAt = Number.NEGATIVE_INFINITY;
  private unfinishedNotLogged = 0;
  private transport!: UdpTransport;
  private cancelTick: (() => void) | undefined;
  /** When the pending tick runs (monotonic ms). */
  private tickAt = Number.POSITIVE_INFINITY;
  private nextIntentSync = 0;
  private status: NodeStatus = { eligible: true, reasons: [] };
  private readonly renewals = { count: 0, sumMs: 0 };
  /** The engine's candidacy per group; what the proposer gets also depends on the deadman. */
  private readonly candidacies = new CandidacyFilter();
  /** Groups whose lease was abandoned after a failed stop: the helper fences them, no demote. */
  private readonly abandoned = new Set<string>();
  /** Renewed leases whose new deadline goes to the helper in one request (see flushExtends). */
  private readonly pendingExtends = new Map<string, number>();

  constructor(opts: EmbeddedOptions) {
    this.opts = opts;
    this.shell = new CoordinatorShell({
      log: childLogger(opts.log, { component: 'coordination' }),
      clock: opts.clock ?? monotonicTimers,
      view: () => this.view(),
    });
    this.groupNames = opts.config.groups.map((g) => g.name);
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
      persistChanged: (err) =>
        err
          ? this.log.error(
              { err },
              'a peer intent write is applied here but cannot be stored: this node does not acknowledge it',
            )
          : this.log.info('the cluster intent is stored on disk again'),
    });
    this.gate = new ProposeGate({
      quarantineMs: leaseMath(opts.config.cluster.timing).quarantineMs,
      waitForAllMs: opts.config.cluster.waitForAllMs,
      groups: this.groupNames.length,
    });
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
    this.roles = new LeaseRoles({
      self: this.self,
      voters: this.voters,
      timing: config.cluster.timing,
      groups: config.groups.filter((g) => g.nodes.includes(this.self.name)).map((g) => g.name),
      send: (to, m) => this.transport.send(to, { k: 'lease', m } satisfies Envelope),
      onEvent: (group, e) => this.onLeaseEvent(group, e),
      now: () => this.now(),
      onUnfinishedRound: (round) => this.onUnfinishedRound(round),
    });
    // Restart rule: vote for nobody and propose nothing for M, whatever this node granted
    // before it restarted (see ProposeGate for why proposing waits too).
    this.roles.acceptor.boot(now);
    this.gate.boot(now);
    const net = networkParts({
      config,
      self: this.self,
      voters: this.voters,
      key: this.opts.key,
      clock: this.shell.clock,
      log: this.log,
      status: this.status,
    });
    this.peers = net.peers;
    this.transport = net.transport;
    this.sanity = new ClockSanity({ clock: this.shell.clock });
    this.transport.onMessage((from, payloads, meta) => {
      const drift = this.sanity.observePeer(from, meta.bootId, meta.sentAt);
      if (drift) this.onClockAnomaly(drift);
      this.receive(from, payloads);
    });
    try {
      await this.transport.start();
      if (this.opts.deadman !== false) {
        this.shell.onDeadman(() => this.refreshCandidacies());
        await this.shell.spawnDeadman(
          {
            nodeName: this.self.name,
            cluster: config.cluster.name,
            epoch: config.epoch,
            key: this.opts.key,
            voters: linksByName(this.voters, this.self.name),
            lifeline: lifelinePath(this.opts.stateDir),
          },
          math.deadmanAtMs - math.demoteAtMs,
        );
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
    this.candidacies.want(group, rank);
    if (!this.gate.offer(group, rank, this.now())) return;
    if (this.applyCandidacy(group, rank)) this.kick();
  }

  /**
   * Hands the proposer the engine's candidacy, or none while no deadman helper is ready (a
   * node that cannot fence acquires nothing new; a lease it holds keeps its proposer, which
   * the deadman guard demotes if the helper is not back in time). True when it changed.
   */
  private applyCandidacy(group: string, rank: number | null): boolean {
    const effective = this.candidacies.effective(group, rank, {
      now: this.now(),
      canAcquire: this.shell.deadmanCanAcquire,
      held: this.held.has(group),
    });
    const current = this.roles.candidacy(group);
    if (current === undefined || current === effective) return false;
    this.roles.setCandidacy(group, effective);
    return true;
  }

  /** The helper died or came back: withdraw or restore candidacies (through the quarantine gate). */
  private refreshCandidacies(): void {
    if (!this.shell.running) return;
    const now = this.now();
    let changed = false;
    for (const [group, rank] of this.candidacies.wishes())
      if (this.gate.offer(group, rank, now)) changed = this.applyCandidacy(group, rank) || changed;
    if (changed) this.kick();
  }

  /** A held group's demote point passed while no helper covered it: stop and let the lease run out. */
  private demoteUnfenced(group: string): void {
    const held = this.held.get(group);
    if (!held || this.abandoned.has(group)) return;
    this.dropHeld(group);
    // A fresh proposer neither renews nor releases: the acceptors keep the lease until it
    // runs out, by which time the engine has stopped the group (it has S for that).
    this.roles.reset(group);
    this.candidacies.holdBack(group, this.now() + leaseMath(this.opts.config.cluster.timing).quarantineMs);
    this.applyCandidacy(group, this.candidacies.wantedRank(group));
    const reason = 'the deadman helper is not running: no fencing past the demote point';
    this.log.error({ group, term: termToString(held.term) }, `lease dropped: ${reason}`);
    this.shell.emit({ type: 'demote', group, term: termToString(held.term), reason });
  }

  async release(group: string): Promise<void> {
    this.dropHeld(group);
    this.roles.release(group, this.now());
    this.transport.flush();
    await this.shell.disarmDeadman(group);
    this.updateOwners();
  }

  abandon(group: string): void {
    // A fresh proposer without candidacy: the acceptors keep the old lease until it expires
    // and the deadman stays armed with the last deadline.
    if (!this.roles.reset(group)) return;
    this.abandoned.add(group);
    this.shell.forgetDeadman(group);
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
    return {
      node: this.self.name,
      quorum: this.peers?.hasQuorum() ?? false,
      quarantined: this.roles?.acceptor.isQuarantined(now) ?? true,
      members: this.peers?.view() ?? [],
      leases: leaseViews(this.groupNames, this.held, this.shell, now),
      droppedMessages: { ...(this.transport?.stats().dropped ?? {}) },
      leaseRenewals: { ...this.renewals },
      ...(this.shell.deadmanView() ? { deadman: this.shell.deadmanView() } : {}),
    };
  }

  /** Drops every lease at once and quarantines again (the policy is {@link ProposeGate}'s). */
  private onClockAnomaly(anomaly: ClockAnomaly): void {
    this.log.error({ anomaly }, 'clock anomaly: dropping every lease and entering quarantine');
    const now = this.now();
    this.roles.acceptor.boot(now);
    const standing = this.roles
      .standings()
      .map((s) => ({ ...s, heldTerm: this.held.get(s.group)?.term ?? null }));
    const plan = this.gate.onAnomaly(anomaly, standing, now);
    this.roles.resetAll();
    for (const d of plan.demote) {
      this.dropHeld(d.group);
      this.shell.emit({ type: 'demote', group: d.group, term: termToString(d.term), reason: d.reason });
    }
  }

  /**
   * A renewal round that ran out with leases open: those leases demote at their deadline. Logged
   * at most once a second (with how many were not), as rounds go every R.
   */
  private onUnfinishedRound(round: UnfinishedRound): void {
    const now = this.now();
    if (now < this.unfinishedLogAt) {
      this.unfinishedNotLogged++;
      return;
    }
    this.unfinishedLogAt = now + 1000;
    const alsoUnfinished = this.unfinishedNotLogged;
    this.unfinishedNotLogged = 0;
    this.log.warn({ ...round, alsoUnfinished }, 'renewal round ran out before a majority renewed its leases');
  }

  /** Run a tick as soon as possible (after a state change). */
  private kick(): void {
    if (!this.shell.running) return;
    this.cancelTick?.();
    this.tickAt = this.now();
    this.cancelTick = this.shell.after(0, () => this.tick());
  }

  /**
   * Suspend detection before acting on time: a node that slept must not treat a round it
   * started before the suspend as fresh. Runs on every tick and before incoming frames.
   */
  private checkClock(): void {
    const now = this.now();
    if (now - this.lastClockCheck < CLOCK_CHECK_MS) return;
    this.lastClockCheck = now;
    for (const anomaly of this.sanity.tick()) this.onClockAnomaly(anomaly);
  }

  private tick(): void {
    if (!this.shell.running) return;
    this.lastClockCheck = Number.NEGATIVE_INFINITY;
    this.checkClock();
    const now = this.now();
    const opened = this.gate.settle(now, this.peers!.sightings());
    if (opened)
      this.log.info(
        {
          reason: opened.reason,
          missing: opened.missing,
          proposeInMs: Math.max(0, Math.round(opened.at - now)),
        },
        'cold-start wait over',
      );
    for (const [group, rank] of this.gate.due(now)) this.applyCandidacy(group, rank);
    for (const group of this.shell.deadmanDue(now)) this.demoteUnfenced(group);
    for (const group of this.candidacies.dueAt(now)) {
      const rank = this.candidacies.wantedRank(group);
      if (this.gate.offer(group, rank, now)) this.applyCandidacy(group, rank);
    }
    this.roles.tick(now);
    this.flushExtends();
    const exchange = now >= this.nextIntentSync;
    if (exchange) this.nextIntentSync = now + INTENT_SYNC_MS;
    this.intents.tick(now, exchange);
    this.updateOwners();
    const peers = this.peers!.tick(now, this.gate.isOpen(now));
    for (const h of peers.heartbeats) this.transport.send(h.to, h.message);
    if (peers.quorumChanged !== null)
      this.log.info({ quorum: peers.quorumChanged }, peers.quorumChanged ? 'quorum gained' : 'quorum lost');
    if (peers.membershipChanged) this.shell.emit({ type: 'membership' });
    this.transport.flush();
    const quarantineEnds = this.roles.acceptor.quarantineEndsAt();
    const wake = Math.min(
      this.candidacies.nextWakeAt(),
      this.roles.nextWakeAt(now + IDLE_TICK_MS),
      this.gate.nextWakeAt(),
      this.shell.deadmanNextDueAt(now) ?? Infinity,
      this.peers!.nextHeartbeatAt(),
      this.nextIntentSync,
      this.intents.nextWakeAt() ?? Infinity,
      this.ownersShownFrom.until,
      quarantineEnds > now ? quarantineEnds : Infinity,
    );
    const delay = Math.max(1, wake - this.now());
    this.tickAt = this.now() + delay;
    this.cancelTick = this.shell.after(delay, () => this.tick());
  }

  private receive(from: string, payloads: unknown[]): void {
    this.checkClock();
    const now = this.now();
    for (const payload of payloads) {
      if (isHeartbeat(payload)) {
        if (this.peers?.onHeartbeat(from, payload)) this.shell.emit({ type: 'membership' });
        continue;
      }
      const env = payload as Envelope;
      if (env?.k === 'lease') {
        const msg = parseLeaseMessage(env.m);
        if (msg) this.roles.deliver(from, msg, now);
      } else this.intents.receive(from, payload);
    }
    this.flushExtends();
    this.refreshOwnersSoon();
    this.transport.flush();
  }

  /** See OWNERS_REFRESH_MS: the shown owners are status only, and the next tick refreshes them. */
  private refreshOwnersSoon(): void {
    if (!this.shell.running) return;
    const at = this.now() + OWNERS_REFRESH_MS;
    if (this.tickAt <= at) return;
    this.cancelTick?.();
    this.tickAt = at;
    this.cancelTick = this.shell.after(OWNERS_REFRESH_MS, () => this.tick());
  }

  private onLeaseEvent(group: string, e: LeaseEvent): void {
    switch (e.type) {
      case 'acquired':
        this.abandoned.delete(group);
        this.setHeld(group, { term: e.term, validUntil: e.validUntil });
        this.arm(group, e.term, e.validUntil);
        this.log.info({ group, term: termToString(e.term) }, 'lease acquired');
        this.shell.emit({ type: 'acquired', group, term: termToString(e.term) });
        break;
      case 'extended':
        // The same lease for longer: owners shown do not change, so no version bump (each
        // round extends every held lease, and a bump re-rendered all N owners each round).
        if (this.held.get(group)?.term === e.term)
          this.held.set(group, { term: e.term, validUntil: e.validUntil });
        else this.setHeld(group, { term: e.term, validUntil: e.validUntil });
        // The round started at t0 = validUntil − V; its time is the renewal latency (a metric).
        this.renewals.count++;
        this.renewals.sumMs +=
          this.now() - (e.validUntil - leaseMath(this.opts.config.cluster.timing).validityMs);
        this.pendingExtends.set(group, this.deadmanDeadline(e.validUntil));
        break;
      case 'demote':
        this.dropHeld(group);
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
    this.pendingExtends.delete(group);
    const releasePayload: Envelope = {
      k: 'lease',
      m: { type: 'release', g: group, owner: this.self.name, term },
    };
    this.shell.armDeadman(group, this.deadmanDeadline(validUntil), releasePayload);
  }

  private deadmanDeadline(validUntil: number): number {
    const math = leaseMath(this.opts.config.cluster.timing);
    return validUntil - (math.validityMs - math.deadmanAtMs);
  }

  /**
   * Hands the helper the new deadlines of the leases renewed since the last flush: one
   * request per deadline (a batched renewal gives all its leases the same), not one per group.
   */
  private flushExtends(): void {
    if (this.pendingExtends.size === 0) return;
    const byDeadline = new Map<number, string[]>();
    for (const [group, deadline] of this.pendingExtends) {
      if (!this.held.has(group)) continue;
      const list = byDeadline.get(deadline);
      if (list) list.push(group);
      else byDeadline.set(deadline, [group]);
    }
    this.pendingExtends.clear();
    for (const [deadline, groups] of byDeadline) this.shell.extendDeadman(groups, deadline);
  }

  private setHeld(group: string, lease: HeldLease): void {
    this.held.set(group, lease);
    this.heldVersion++;
  }

  private dropHeld(group: string): void {
    if (this.held.delete(group)) this.heldVersion++;
  }

  /**
   * Recomputes the owner shown for every group, but only when what it depends on changed: the
   * acceptor's leases, the leases held here, the quarantine, or the end of a held lease's
   * window. It runs after every datagram and tick, so with N groups it must not cost O(N) each
   * time.
   */
  private updateOwners(): void {
    if (!this.roles) return;
    const { groupNames: groups, held, shell: board } = this;
    const acceptor = this.roles.acceptor;
    const now = this.now();
    const from = this.ownersShownFrom;
    const quarantined = acceptor.isQuarantined(now);
    if (
      from.acceptor === acceptor.version() &&
      from.held === this.heldVersion &&
      from.quarantined === quarantined &&
      now < from.until
    )
      return;
    showOwners({ groups, self: this.self.name, now, held, acceptor, board });
    let until = Number.POSITIVE_INFINITY;
    for (const h of held.values()) if (h.validUntil > now) until = Math.min(until, h.validUntil);
    this.ownersShownFrom = { acceptor: acceptor.version(), held: this.heldVersion, quarantined, until };
  }
}
