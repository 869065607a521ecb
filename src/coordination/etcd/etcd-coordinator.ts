import { randomUUID } from 'node:crypto';
import type { Etcd3, Watcher } from 'etcd3';
import type { HaloConfig } from '../../config/model.js';
import { HaloError } from '../../errors.js';
import { childLogger, type Logger } from '../../log.js';
import { monotonicTimers, type TimerClock } from '../../util/clock.js';
import type { FenceAction } from '../deadman/fence-action.js';
import { lifelinePath } from '../deadman/lifeline.js';
import { CoordinatorShell } from '../shell/coordinator-shell.js';
import type {
  ClusterIntent,
  Coordinator,
  CoordinatorEvent,
  CoordinatorView,
  GroupLeaseView,
  NodeStatus,
} from '../types.js';
import { createEtcdClient } from './etcd-client.js';
import type { EtcdCommand, EtcdOutput } from './etcd-commands.js';
import { EtcdCore } from './etcd-core.js';
import { EtcdKeys } from './etcd-keys.js';
import { type EtcdTiming, etcdTiming } from './etcd-timing.js';
import { EtcdWrites, keyValue } from './etcd-writes.js';
import { LeaseKeeper, type LeaseKeeperEvent } from './lease-keeper.js';
import { checkEpoch, readSnapshot, type Snapshot } from './remote-state.js';

/**
 * The etcd coordination backend: one etcd lease per agent process, renewed by
 * {@link LeaseKeeper}; a group is owned by whoever created `<prefix>/groups/<g>` under its
 * lease (create-if-absent transaction), and the key's create revision is the term. The owner's
 * deadline is its own: V after the send time of its last answered keepalive; it demotes at
 * V − S whether or not etcd answers, and keeps the deadman helper armed with V − gh like the
 * embedded backend.
 *
 * State is learnt from a watch on the whole prefix (fast) and a full read every keepalive
 * period (so a broken watch costs latency, never correctness). Every decision is taken by
 * {@link EtcdCore}; this class only talks to etcd and carries out the core's commands.
 */

export interface EtcdCoordinatorOptions {
  config: HaloConfig;
  node: string;
  /** Cluster key: only for the deadman helper's identity (it sends nothing in etcd mode). */
  key: Buffer;
  /** Where the lifeline FIFO lives (the helper holds it; see deadman/lifeline.ts). */
  stateDir?: string;
  log: Logger;
  clock?: TimerClock;
  /** Spawn the deadman helper (default true; in-process tests may turn it off). */
  deadman?: boolean;
}

const TICK_MS = 20;
const START_ATTEMPTS = 5;

export class EtcdCoordinator implements Coordinator {
  private readonly opts: EtcdCoordinatorOptions;
  private readonly shell: CoordinatorShell;
  private readonly timing: EtcdTiming;
  private readonly keys: EtcdKeys;
  private readonly bootId = randomUUID();
  private readonly core: EtcdCore;
  private client!: Etcd3;
  /** One client per endpoint: keepalives go to every member at once (lease-keeper.ts). */
  private memberClients: Etcd3[] = [];
  private writes!: EtcdWrites;
  private keeper: LeaseKeeper | undefined;
  private watcher: Watcher | undefined;

  constructor(opts: EtcdCoordinatorOptions) {
    this.opts = opts;
    this.shell = new CoordinatorShell({
      log: childLogger(opts.log, { component: 'coordination', backend: 'etcd' }),
      clock: opts.clock ?? monotonicTimers,
      view: () => this.view(),
    });
    const c = opts.config.cluster.coordination;
    this.timing = etcdTiming(opts.config.cluster.timing, c.type === 'etcd' ? c.electionTimeoutMs : undefined);
    this.keys = new EtcdKeys(c.type === 'etcd' ? c.prefix : '/halo');
    this.core = new EtcdCore({
      node: opts.node,
      bootId: this.bootId,
      epoch: opts.config.epoch,
      groups: opts.config.groups,
      nodes: opts.config.nodes.map((n) => n.name),
      timing: this.timing,
      keys: this.keys,
    });
  }

  private get log(): Logger {
    return this.shell.log;
  }

  private now(): number {
    return this.shell.clock.now();
  }

  async start(): Promise<void> {
    const { config } = this.opts;
    const c = config.cluster.coordination;
    if (c.type !== 'etcd') throw new HaloError('HALO_E_INTERNAL', 'the etcd backend needs type: etcd');
    if (!config.nodes.some((n) => n.name === this.opts.node))
      throw new HaloError('HALO_E_USAGE', `node "${this.opts.node}" is not in the config's nodes`);
    this.shell.enter('starting');
    this.client = createEtcdClient(c, this.timing.callTimeoutMs * 2, this.opts.config.cluster.keepalive);
    this.memberClients =
      c.endpoints.length > 1
        ? c.endpoints.map((e) =>
            createEtcdClient(
              { ...c, endpoints: [e] },
              this.timing.callTimeoutMs * 2,
              this.opts.config.cluster.keepalive,
            ),
          )
        : [];
    this.writes = new EtcdWrites({
      client: this.client,
      keys: this.keys,
      timing: this.timing,
      node: this.opts.node,
      bootId: this.bootId,
      log: this.log,
    });
    let snap: Snapshot;
    try {
      snap = await this.firstContact(c.endpoints);
      if (this.opts.deadman !== false) {
        this.shell.onDeadman(() => this.apply(this.core.setFenceable(this.shell.deadmanCanAcquire)));
        const { math } = this.timing;
        await this.shell.spawnDeadman(
          {
            nodeName: this.opts.node,
            cluster: config.cluster.name,
            epoch: config.epoch,
            key: this.opts.key,
            // Nobody to send a release to: in etcd mode a dead agent's lease runs out in etcd.
            voters: {},
            ...(this.opts.stateDir ? { lifeline: lifelinePath(this.opts.stateDir) } : {}),
          },
          math.deadmanAtMs - math.demoteAtMs,
        );
      }
      if (!this.shell.stillStarting)
        throw new HaloError('HALO_E_INTERNAL', 'coordination was stopped while it was starting');
    } catch (err) {
      this.closeClients();
      await this.shell.finish();
      throw err;
    }
    this.apply(this.core.begin(snap.revision, snap.kvs.map(keyValue), this.now()));
    this.shell.enter('running');
    this.keeper = new LeaseKeeper({
      client: this.client,
      memberClients: this.memberClients,
      timing: this.timing,
      clock: this.shell.clock,
      log: this.log,
      onEvent: (e) => this.onLease(e),
    });
    this.keeper.start();
    this.startWatch(snap.revision);
    this.log.info(
      { node: this.opts.node, ttlSec: this.timing.ttlSec, prefix: this.keys.root },
      'coordination started',
    );
    this.tick();
  }

  async stop(): Promise<void> {
    if (this.shell.lifecycle === 'idle' || this.shell.lifecycle === 'stopped') return;
    await this.shell.quiesce();
    await this.watcher?.cancel().catch(() => undefined);
    // Revoking drops this node's keys at once; never while a group may still be running here.
    await this.keeper?.stop(!this.core.busy());
    await this.shell.finish();
    this.closeClients();
  }

  private closeClients(): void {
    this.client?.close();
    for (const m of this.memberClients) m.close();
    this.memberClients = [];
  }

  on(listener: (event: CoordinatorEvent) => void): () => void {
    return this.shell.on(listener);
  }

  setCandidacy(group: string, rank: number | null): void {
    this.apply(this.core.setCandidacy(group, rank));
  }

  async release(group: string): Promise<void> {
    const { term } = this.core.release(group);
    if (term !== null) this.apply(this.core.onDeleted(group, term, await this.writes.deleteKey(group, term)));
    await this.shell.disarmDeadman(group);
  }

  abandon(group: string): void {
    this.shell.forgetDeadman(group);
    this.apply(this.core.abandon(group));
  }

  setFenceActions(group: string, actions: FenceAction[]): void {
    this.shell.setFenceActions(group, actions);
    this.apply(this.core.rearm(group));
  }

  setNodeStatus(status: NodeStatus): void {
    this.apply(this.core.setNodeStatus(status));
  }

  intent(): ClusterIntent {
    return this.core.mirror.intent();
  }

  async updateIntent(values: Record<string, unknown>): Promise<void> {
    const entries = Object.entries(values);
    if (entries.length === 0) return;
    try {
      const revision = await this.writes.putIntent(entries, this.timing.callTimeoutMs * 5);
      this.core.mirror.intentWritten(entries, revision);
      this.apply(this.core.flush());
    } catch (err) {
      throw new HaloError('HALO_E_NO_QUORUM', `etcd did not store the change: ${(err as Error).message}`, {
        keys: Object.keys(values),
      });
    }
  }

  view(): CoordinatorView {
    const now = this.now();
    const leases: GroupLeaseView[] = this.opts.config.groups.map((g) => ({
      group: g.name,
      ...this.shell.owner(g.name),
      validForMs: this.core.validForMs(g.name, now),
    }));
    return {
      node: this.opts.node,
      quorum: this.core.hasQuorum(now),
      quarantined: this.core.mirror.epochMismatch !== null,
      members: this.core.mirror.members(now),
      leases,
      droppedMessages: {},
      ...(this.shell.deadmanView() ? { deadman: this.shell.deadmanView() } : {}),
    };
  }

  // ---- carrying out the core's decisions ------------------------------------------------------

  /** Applies an output: synchronous commands at once, etcd calls as tracked background tasks. */
  private apply(out: EtcdOutput): void {
    for (const c of out.commands) {
      const io = this.io(c);
      if (io) this.shell.spawn(c.type, io);
    }
    for (const e of out.events) this.shell.emit(e);
  }

  /** Like apply, but waits for each etcd call in turn (the poll's retries run in order). */
  private async applyInOrder(out: EtcdOutput, signal: AbortSignal): Promise<void> {
    for (const e of out.events) this.shell.emit(e);
    for (const c of out.commands) {
      if (signal.aborted) return;
      await this.io(c)?.(signal);
    }
  }

  /** Runs a synchronous command, or returns the etcd call an asynchronous one stands for. */
  private io(c: EtcdCommand): ((signal: AbortSignal) => Promise<void>) | undefined {
    switch (c.type) {
      case 'log':
        this.shell.writeLog(c);
        return undefined;
      case 'arm':
        // The helper sends this nowhere (no voters in etcd mode); see docs/coordination-etcd.md.
        this.shell.armDeadman(c.group, c.deadlineMonoMs, { k: 'etcd', group: c.group });
        return undefined;
      case 'poison-lease':
        this.keeper?.poison();
        return undefined;
      case 'schedule-acquire':
        this.shell.after(c.delayMs, () => this.apply(this.core.acquireDue(c.group, this.now())));
        return undefined;
      case 'poll':
        return (signal) => this.poll(signal);
      case 'acquire':
        return async (signal) => {
          const result = await this.writes.acquire(c.group, c.leaseId, signal);
          this.apply(this.core.onAcquired(c.group, c.leaseId, result, this.now()));
        };
      case 'delete-key':
        return async (signal) =>
          this.apply(
            this.core.onDeleted(c.group, c.term, await this.writes.deleteKey(c.group, c.term, signal)),
          );
      case 'move-abandoned':
        return async (signal) =>
          this.apply(
            this.core.onMoved(c.group, c.term, await this.writes.moveAbandoned(c.group, c.term, signal)),
          );
      case 'put-node-record':
        return async (signal) => {
          if (!(await this.writes.putNodeRecord(c.leaseId, c.record, signal))) this.core.onNodeRecordFailed();
        };
    }
  }

  // ---- etcd calls --------------------------------------------------------------------------------

  private async firstContact(endpoints: string[]): Promise<Snapshot> {
    let lastErr: unknown;
    for (let i = 0; i < START_ATTEMPTS; i++) {
      try {
        await checkEpoch(
          this.client,
          this.keys,
          this.opts.config.epoch,
          this.opts.node,
          this.timing.callTimeoutMs * 5,
        );
        return await readSnapshot(this.client, this.keys, this.timing.callTimeoutMs * 5);
      } catch (err) {
        if (err instanceof HaloError) throw err;
        lastErr = err;
        await this.shell.sleep(this.timing.renewMs);
      }
    }
    throw new HaloError(
      'HALO_E_NO_QUORUM',
      `cannot reach etcd at ${endpoints.join(', ')}: ${(lastErr as Error).message}; check cluster.coordination.endpoints and that etcd is running`,
    );
  }

  private startWatch(revision: number): void {
    const w = this.client
      .watch()
      .prefix(this.keys.root)
      .startRevision(String(revision + 1))
      .watcher();
    w.on('put', (kv) => this.apply(this.core.onPut(keyValue(kv), Number(kv.mod_revision), this.now())));
    w.on('delete', (kv) =>
      this.apply(this.core.onDelete(kv.key.toString(), Number(kv.mod_revision), this.now())),
    );
    w.on('error', (err) => this.log.debug({ err: err.message }, 'etcd watch error'));
    this.watcher = w;
  }

  private onLease(e: LeaseKeeperEvent): void {
    if (!this.shell.running) return;
    const now = this.now();
    if (e.type === 'lost') this.apply(this.core.onLeaseLost(e.id));
    else if (e.type === 'granted') this.apply(this.core.onLeaseGranted(e.lease, now));
    else this.apply(this.core.onLeaseRenewed(e.lease, now));
  }

  /** Every TICK_MS: the local deadline never waits for etcd. */
  private tick(): void {
    if (!this.shell.running) return;
    const now = this.now();
    for (const group of this.shell.deadmanDue(now)) this.apply(this.core.unfenced(group));
    this.apply(this.core.tick(now));
    this.shell.after(TICK_MS, () => this.tick());
  }

  private async poll(signal: AbortSignal): Promise<void> {
    let state: Snapshot;
    try {
      state = await readSnapshot(this.client, this.keys, this.timing.callTimeoutMs);
    } catch (err) {
      this.apply(this.core.onPollFailed((err as Error).message));
      return;
    }
    try {
      await this.applyInOrder(
        this.core.onSnapshot(state.revision, state.kvs.map(keyValue), this.now()),
        signal,
      );
    } finally {
      this.apply(this.core.onPollDone());
    }
  }
}
