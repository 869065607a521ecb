import { randomUUID } from 'node:crypto';
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import type { HaloConfig } from '../../config/model.js';
import { HaloError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { type Clock, monotonicClock } from '../../util/clock.js';
import { DeadmanClient } from '../deadman/client.js';
import type { FenceAction } from '../deadman/fence-action.js';
import type {
  ClusterIntent,
  Coordinator,
  CoordinatorEvent,
  CoordinatorView,
  GroupLeaseView,
  MemberView,
  NodeStatus,
} from '../types.js';
import { createEtcdClient } from './etcd-client.js';
import { EtcdKeys, type NodeRecord, parseJson, parseNode, parseOwner } from './etcd-keys.js';
import { type EtcdTiming, etcdTiming } from './etcd-timing.js';
import { type HeldLease, LeaseKeeper, type LeaseKeeperEvent, withTimeout } from './lease-keeper.js';
import { checkEpoch, readSnapshot, type Snapshot } from './remote-state.js';

/**
 * The etcd coordination backend (COORDINATION.md "etcd mapping"): one etcd lease per agent
 * process, renewed by {@link LeaseKeeper}; a group is owned by whoever created
 * `<prefix>/groups/<g>` under its lease (create-if-absent txn), and the key's create revision
 * is the term. The owner's deadline is its own: V after the send time of its last answered
 * keepalive; it demotes at V − S whether or not etcd answers, and keeps the deadman helper armed
 * with V − gh like the embedded backend.
 *
 * State is learnt from a watch on the whole prefix (fast) and a full read every keepalive
 * period (so a broken watch costs latency, never correctness); per key, the newest revision
 * wins.
 */

export interface EtcdCoordinatorOptions {
  config: HaloConfig;
  node: string;
  /** Cluster key: only for the deadman helper's identity (it sends nothing in etcd mode). */
  key: Buffer;
  log: Logger;
  clock?: Clock;
  /** Spawn the deadman helper (default true; in-process tests may turn it off). */
  deadman?: boolean;
}

interface HeldGroup {
  term: string;
  leaseId: string;
  /** `acquired` was emitted and no `demote` since. */
  active: boolean;
  /** A stop failed: the key was moved to a lease nobody renews. */
  abandoned: boolean;
  /** Abandoned and the key is already on the throwaway lease. */
  moved: boolean;
}

/** Ranked back-off between candidates after a group becomes free. */
const RANK_STEP_MS = 20;
const TICK_MS = 20;
const START_ATTEMPTS = 5;

export class EtcdCoordinator implements Coordinator {
  private readonly opts: EtcdCoordinatorOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly timing: EtcdTiming;
  private readonly keys: EtcdKeys;
  private readonly bootId = randomUUID();
  private readonly listeners = new Set<(e: CoordinatorEvent) => void>();
  private readonly held = new Map<string, HeldGroup>();
  private readonly candidacy = new Map<string, number>();
  private readonly owners = new Map<string, { owner: string | null; term: string | null }>();
  private readonly fence = new Map<string, FenceAction[]>();
  private readonly acquireTimers = new Map<string, NodeJS.Timeout>();
  private readonly acquiring = new Set<string>();
  /** Released groups whose key could not be deleted yet (etcd unreachable). */
  private readonly releasing = new Map<string, string>();
  /** Per etcd key: the revision of the newest information applied. */
  private readonly keyRev = new Map<string, number>();
  private readonly nodes = new Map<string, { record: NodeRecord | null; lastSeenAt: number | null }>();
  private intentMap: ClusterIntent = {};
  private startRevision = 0;
  private client!: Etcd3;
  private keeper!: LeaseKeeper;
  private watcher: Watcher | undefined;
  private deadman: DeadmanClient | undefined;
  private lease: HeldLease | undefined;
  private status: NodeStatus = { eligible: true, reasons: [] };
  private nodeRecordDirty = true;
  private epochMismatch: string | null = null;
  private running = false;
  private tickTimer: NodeJS.Timeout | undefined;
  private nextPoll = 0;
  private polling: Promise<void> | undefined;
  private lastPollOk = Number.NEGATIVE_INFINITY;
  private lastQuorum = false;

  constructor(opts: EtcdCoordinatorOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? monotonicClock;
    this.log = opts.log.child({ component: 'coordination', backend: 'etcd' });
    this.timing = etcdTiming(opts.config.cluster.timing);
    const c = opts.config.cluster.coordination;
    this.keys = new EtcdKeys(c.type === 'etcd' ? c.prefix : '/halo');
  }

  async start(): Promise<void> {
    const { config } = this.opts;
    const c = config.cluster.coordination;
    if (c.type !== 'etcd') throw new HaloError('HALO_E_INTERNAL', 'the etcd backend needs type: etcd');
    if (!config.nodes.some((n) => n.name === this.opts.node))
      throw new HaloError('HALO_E_USAGE', `node "${this.opts.node}" is not in the config's nodes`);
    this.client = createEtcdClient(c, this.timing.callTimeoutMs * 2, this.opts.config.cluster.keepalive);
    try {
      const snap = await this.firstContact(c.endpoints);
      this.startRevision = snap.revision;
      this.applySnapshot(snap);
      if (this.opts.deadman !== false) {
        this.deadman = await DeadmanClient.spawn({
          nodeName: this.opts.node,
          cluster: config.cluster.name,
          epoch: config.epoch,
          key: this.opts.key,
          // Nobody to send a release to: in etcd mode a dead agent's lease runs out in etcd.
          voters: {},
          log: this.log,
        });
        this.deadman.on((e) => {
          if (e.type === 'exit' && !e.expected)
            this.log.error({ code: e.code }, 'deadman helper exited unexpectedly');
        });
      }
    } catch (err) {
      this.client.close();
      throw err;
    }
    for (const g of config.groups) this.refreshOwner(g.name);
    this.running = true;
    this.keeper = new LeaseKeeper({
      client: this.client,
      timing: this.timing,
      clock: this.clock,
      log: this.log,
      onEvent: (e) => this.onLease(e),
    });
    this.keeper.start();
    this.startWatch();
    this.nextPoll = this.clock.now() + this.timing.renewMs;
    this.log.info(
      { node: this.opts.node, ttlSec: this.timing.ttlSec, prefix: this.keys.root },
      'coordination started',
    );
    this.tick();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    for (const t of this.acquireTimers.values()) clearTimeout(t);
    this.acquireTimers.clear();
    await this.polling;
    await this.watcher?.cancel().catch(() => undefined);
    // Revoking drops this node's keys at once; never while a group may still be running here.
    const busy = [...this.held.values()].some((h) => h.active || h.abandoned);
    await this.keeper?.stop(!busy);
    await this.deadman?.stop();
    this.client?.close();
  }

  on(listener: (event: CoordinatorEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setCandidacy(group: string, rank: number | null): void {
    if (!this.opts.config.groups.some((g) => g.name === group && g.nodes.includes(this.opts.node))) return;
    if (rank === null) {
      this.candidacy.delete(group);
      return;
    }
    this.candidacy.set(group, rank);
    this.scheduleAcquire(group, 0);
  }

  async release(group: string): Promise<void> {
    const h = this.held.get(group);
    this.held.delete(group);
    // Like the embedded backend, a release also drops the candidacy.
    this.candidacy.delete(group);
    if (h) {
      const ok = await this.deleteKey(group, h.term);
      if (!ok) {
        this.releasing.set(group, h.term);
        this.log.warn({ group }, 'could not delete the lease key in etcd yet; retrying');
      }
    }
    await this.deadman?.disarm(group).catch(() => undefined);
  }

  abandon(group: string): void {
    const h = this.held.get(group);
    this.candidacy.delete(group);
    if (!h) return;
    h.active = false;
    h.abandoned = true;
    this.log.error(
      { group },
      'abandoning the lease after a failed stop: the deadman helper fences at the deadline',
    );
    void this.moveAbandoned(group);
  }

  setFenceActions(group: string, actions: FenceAction[]): void {
    this.fence.set(group, actions);
    if (this.held.get(group)?.active) void this.arm(group);
  }

  setNodeStatus(status: NodeStatus): void {
    this.status = { eligible: status.eligible, reasons: [...status.reasons] };
    this.nodeRecordDirty = true;
    void this.putNodeRecord();
  }

  intent(): ClusterIntent {
    return { ...this.intentMap };
  }

  async updateIntent(values: Record<string, unknown>): Promise<void> {
    const entries = Object.entries(values);
    if (entries.length === 0) return;
    try {
      const res = await withTimeout(
        this.client.kv.txn(
          {
            compare: [],
            success: entries.map(([k, v]) => ({
              request_put: { key: Buffer.from(this.keys.intent(k)), value: Buffer.from(JSON.stringify(v)) },
            })),
            failure: [],
          },
          { deadline: Date.now() + this.timing.callTimeoutMs * 5 },
        ),
        this.timing.callTimeoutMs * 5,
      );
      const rev = Number(res.header.revision);
      let changed = false;
      for (const [k, v] of entries) changed = this.applyIntent(this.keys.intent(k), k, v, rev) || changed;
      if (changed) this.emit({ type: 'intent', intent: this.intent() });
    } catch (err) {
      throw new HaloError('HALO_E_NO_QUORUM', `etcd did not store the change: ${(err as Error).message}`, {
        keys: Object.keys(values),
      });
    }
  }

  view(): CoordinatorView {
    const now = this.clock.now();
    const lease = this.keeper?.current();
    const leases: GroupLeaseView[] = this.opts.config.groups.map((g) => {
      const o = this.owners.get(g.name) ?? { owner: null, term: null };
      const h = this.held.get(g.name);
      return {
        group: g.name,
        owner: o.owner,
        term: o.term,
        validForMs: h?.active && lease ? Math.max(0, Math.round(lease.validUntil - now)) : null,
      };
    });
    const members: MemberView[] = this.opts.config.nodes.map((n) => {
      const seen = this.nodes.get(n.name);
      const up = seen?.record != null;
      return {
        name: n.name,
        kind: 'node',
        up,
        eligible: seen?.record?.eligible ?? false,
        reasons: seen?.record?.reasons ?? [],
        lastSeenAgoMs: up ? 0 : seen?.lastSeenAt != null ? Math.round(now - seen.lastSeenAt) : null,
        rttMs: null,
        configEpoch: seen?.record?.epoch ?? null,
      };
    });
    return {
      node: this.opts.node,
      quorum: this.hasQuorum(),
      quarantined: this.epochMismatch !== null,
      members,
      leases,
      droppedMessages: {},
    };
  }

  // ---- start-up ---------------------------------------------------------------------------

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
        await new Promise((r) => setTimeout(r, this.timing.renewMs));
      }
    }
    throw new HaloError(
      'HALO_E_NO_QUORUM',
      `cannot reach etcd at ${endpoints.join(', ')}: ${(lastErr as Error).message}; check cluster.coordination.endpoints and that etcd is running`,
    );
  }

  private startWatch(): void {
    const w = this.client
      .watch()
      .prefix(this.keys.root)
      .startRevision(String(this.startRevision + 1))
      .watcher();
    w.on('put', (kv) => this.applyKv(kv, Number(kv.mod_revision)));
    w.on('delete', (kv) => this.applyDelete(kv.key.toString(), Number(kv.mod_revision)));
    w.on('error', (err) => this.log.debug({ err: err.message }, 'etcd watch error'));
    this.watcher = w;
  }

  // ---- the lease ---------------------------------------------------------------------------

  private onLease(e: LeaseKeeperEvent): void {
    if (e.type === 'lost') {
      this.lease = undefined;
      for (const [group, h] of this.held) {
        if (h.leaseId !== e.id) continue;
        this.held.delete(group);
        if (h.active) this.demote(group, h, 'etcd expired our lease');
      }
      return;
    }
    this.lease = e.lease;
    if (e.type === 'granted') {
      this.nodeRecordDirty = true;
      void this.putNodeRecord();
      for (const g of this.candidacy.keys()) this.scheduleAcquire(g, 0);
    }
    for (const [group, h] of this.held) {
      if (h.leaseId !== e.lease.id || h.abandoned) continue;
      if (h.active) void this.arm(group);
      else this.activate(group);
    }
  }

  /** Runs every TICK_MS: the local deadline never waits for etcd. */
  private tick(): void {
    if (!this.running) return;
    const now = this.clock.now();
    const lease = this.lease;
    const active = [...this.held].filter(([, h]) => h.active);
    if (active.length > 0 && (!lease || now >= lease.validUntil - this.timing.stopBudgetMs)) {
      const quiet = lease ? Math.round(now - (lease.validUntil - this.timing.math.validityMs)) : null;
      for (const [group, h] of active)
        this.demote(group, h, `etcd unreachable: no keepalive answered for ${quiet ?? '?'}ms`);
      this.lease = undefined;
      this.keeper.poison();
    }
    if (now >= this.nextPoll && !this.polling) {
      this.nextPoll = now + this.timing.renewMs;
      this.polling = this.poll().finally(() => {
        this.polling = undefined;
      });
    }
    const quorum = this.hasQuorum();
    if (quorum !== this.lastQuorum) {
      this.lastQuorum = quorum;
      this.log.info({ quorum }, quorum ? 'etcd reachable' : 'etcd unreachable');
      this.emit({ type: 'membership', view: this.view() });
    }
    this.tickTimer = setTimeout(() => this.tick(), TICK_MS);
  }

  private hasQuorum(): boolean {
    const now = this.clock.now();
    return this.keeper?.current() !== undefined && now - this.lastPollOk < this.timing.renewMs * 3;
  }

  private async poll(): Promise<void> {
    try {
      const state = await readSnapshot(this.client, this.keys, this.timing.callTimeoutMs);
      this.lastPollOk = this.clock.now();
      this.applySnapshot(state);
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'etcd read failed');
      return;
    }
    if (this.nodeRecordDirty) await this.putNodeRecord();
    for (const [group, term] of [...this.releasing]) {
      if (await this.deleteKey(group, term)) this.releasing.delete(group);
    }
    for (const [group, h] of [...this.held]) if (h.abandoned && !h.moved) await this.moveAbandoned(group);
    for (const g of this.candidacy.keys()) this.scheduleAcquire(g, 0);
  }

  // ---- acquiring and releasing ------------------------------------------------------------

  private scheduleAcquire(group: string, extraDelayMs: number): void {
    const rank = this.candidacy.get(group);
    if (!this.running || rank === undefined || this.held.has(group)) return;
    if (this.acquireTimers.has(group) || this.acquiring.has(group)) return;
    if (this.owners.get(group)?.owner != null) return;
    const timer = setTimeout(
      () => {
        this.acquireTimers.delete(group);
        void this.acquire(group);
      },
      rank * RANK_STEP_MS + extraDelayMs,
    );
    this.acquireTimers.set(group, timer);
  }

  private async acquire(group: string): Promise<void> {
    const lease = this.lease;
    const now = this.clock.now();
    if (!this.running || !this.candidacy.has(group) || this.held.has(group) || this.epochMismatch) return;
    if (this.owners.get(group)?.owner != null) return;
    if (!lease || now >= lease.validUntil - this.timing.stopBudgetMs) return;
    const key = this.keys.group(group);
    this.acquiring.add(group);
    try {
      const value = JSON.stringify({ node: this.opts.node, bootId: this.bootId });
      const res = await withTimeout(
        this.client
          .if(key, 'Create', '==', 0)
          .then(this.client.put(key).value(value).lease(lease.id))
          .else(this.client.get(key))
          .options({ deadline: Date.now() + this.timing.callTimeoutMs })
          .commit(),
        this.timing.callTimeoutMs,
      );
      let term: string;
      if (res.succeeded) {
        term = String(res.header.revision);
      } else {
        const kv = res.responses[0]?.response_range?.kvs[0];
        // An earlier attempt whose answer was lost may have created the key under our lease.
        if (!kv || kv.lease !== lease.id) {
          if (kv) this.applyKv(kv, Number(res.header.revision));
          return;
        }
        term = kv.create_revision;
      }
      this.keyRev.set(key, Math.max(this.keyRev.get(key) ?? 0, Number(term)));
      // The watch may have adopted the key already (it can beat the txn's answer).
      if (!this.held.has(group))
        this.held.set(group, { term, leaseId: lease.id, active: false, abandoned: false, moved: false });
      this.setOwner(group, this.opts.node, term);
      this.activate(group);
    } catch (err) {
      this.log.debug({ group, err: (err as Error).message }, 'acquire attempt failed');
    } finally {
      this.acquiring.delete(group);
    }
  }

  /** Emits `acquired` for a held key once the lease leaves enough time to stop safely. */
  private activate(group: string): void {
    const h = this.held.get(group);
    const lease = this.lease;
    if (!h || h.active || h.abandoned || !lease || lease.id !== h.leaseId) return;
    if (!this.candidacy.has(group)) {
      // Nobody asked for it any more: give it back rather than sit on it.
      this.held.delete(group);
      void this.deleteKey(group, h.term).then((ok) => ok || this.releasing.set(group, h.term));
      return;
    }
    if (this.clock.now() >= lease.validUntil - this.timing.stopBudgetMs) return;
    h.active = true;
    void this.arm(group);
    this.log.info({ group, term: h.term }, 'lease acquired');
    this.emit({ type: 'acquired', group, term: h.term });
  }

  private demote(group: string, h: HeldGroup, reason: string): void {
    if (!h.active) return;
    h.active = false;
    // The deadman stays armed with the last deadline, in case the stop hangs.
    this.log.warn({ group, term: h.term, reason }, 'lease lost: demoting');
    this.emit({ type: 'demote', group, term: h.term, reason });
  }

  private async deleteKey(group: string, term: string): Promise<boolean> {
    const key = this.keys.group(group);
    try {
      await withTimeout(
        this.client
          .if(key, 'Create', '==', term)
          .then(this.client.delete().key(key))
          .options({ deadline: Date.now() + this.timing.callTimeoutMs })
          .commit(),
        this.timing.callTimeoutMs,
      );
      return true;
    } catch (err) {
      this.log.debug({ group, err: (err as Error).message }, 'etcd delete failed');
      return false;
    }
  }

  /**
   * A failed stop: the group's key must outlive neither the deadman's deadline by much nor
   * stay forever on our (renewed) lease. Re-attach it to a fresh lease nobody renews; etcd
   * drops it one TTL later, after the deadman deadline, which is at most one TTL from the
   * last keepalive of the old lease.
   */
  private async moveAbandoned(group: string): Promise<void> {
    const h = this.held.get(group);
    if (!h?.abandoned || h.moved) return;
    const key = this.keys.group(group);
    const lease = this.client.lease(this.timing.ttlSec, {
      autoKeepAlive: false,
      deadline: Date.now() + this.timing.callTimeoutMs,
    });
    lease.on('lost', () => undefined);
    try {
      const id = await withTimeout(lease.grant(), this.timing.callTimeoutMs);
      const value = JSON.stringify({ node: this.opts.node, bootId: this.bootId, abandoned: true });
      const res = await withTimeout(
        this.client
          .if(key, 'Create', '==', h.term)
          .then(this.client.put(key).value(value).lease(id))
          .options({ deadline: Date.now() + this.timing.callTimeoutMs })
          .commit(),
        this.timing.callTimeoutMs,
      );
      h.moved = true;
      if (!res.succeeded) this.held.delete(group);
    } catch (err) {
      this.log.debug({ group, err: (err as Error).message }, 'could not move the abandoned key yet');
    } finally {
      lease.release();
    }
  }

  private async arm(group: string): Promise<void> {
    const lease = this.lease;
    if (!this.deadman || !lease) return;
    const { math } = this.timing;
    try {
      await this.deadman.arm(group, {
        deadlineMonoMs: lease.validUntil - (math.validityMs - math.deadmanAtMs),
        actions: this.fence.get(group) ?? [],
        // The helper sends this nowhere (no voters in etcd mode); see docs/coordination-etcd.md.
        releasePayload: { k: 'etcd', group },
      });
    } catch (err) {
      this.log.error({ group, err: (err as Error).message }, 'could not arm the deadman helper');
    }
  }

  private async putNodeRecord(): Promise<void> {
    const lease = this.lease;
    if (!lease || !this.running) return;
    const record = {
      bootId: this.bootId,
      epoch: this.opts.config.epoch,
      eligible: this.status.eligible,
      reasons: this.status.reasons,
    };
    this.nodeRecordDirty = false;
    try {
      await withTimeout(
        this.client
          .put(this.keys.node(this.opts.node))
          .value(JSON.stringify(record))
          .lease(lease.id)
          .options({ deadline: Date.now() + this.timing.callTimeoutMs })
          .exec(),
        this.timing.callTimeoutMs,
      );
    } catch {
      this.nodeRecordDirty = true;
    }
  }

  // ---- what etcd holds ---------------------------------------------------------------------

  private applySnapshot(state: Snapshot): void {
    const seen = new Set<string>();
    for (const kv of state.kvs) {
      seen.add(kv.key.toString());
      this.applyKv(kv, state.revision);
    }
    for (const key of this.knownKeys()) if (!seen.has(key)) this.applyDelete(key, state.revision);
  }

  private knownKeys(): string[] {
    return [
      ...this.opts.config.groups.map((g) => this.keys.group(g.name)),
      ...this.opts.config.nodes.map((n) => this.keys.node(n.name)),
      ...Object.keys(this.intentMap).map((k) => this.keys.intent(k)),
    ];
  }

  /** Newest revision wins per key: a slow full read must not undo a newer watch event. */
  private fresh(key: string, rev: number): boolean {
    if ((this.keyRev.get(key) ?? 0) > rev) return false;
    this.keyRev.set(key, rev);
    return true;
  }

  private applyKv(kv: IKeyValue, rev: number): void {
    const key = kv.key.toString();
    const parsed = this.keys.parse(key);
    if (parsed.kind === 'intent') {
      if (this.applyIntent(key, parsed.name, parseJson(kv.value), rev, Number(kv.mod_revision)))
        this.emit({ type: 'intent', intent: this.intent() });
      return;
    }
    if (!this.fresh(key, rev)) return;
    if (parsed.kind === 'epoch') {
      const epoch = Number(kv.value.toString());
      if (epoch !== this.opts.config.epoch && this.epochMismatch === null) {
        this.epochMismatch = `etcd now holds config epoch ${epoch}, this agent runs ${this.opts.config.epoch}`;
        this.log.error(
          { epoch, ours: this.opts.config.epoch },
          'config epoch changed in etcd: acquiring nothing',
        );
      }
    } else if (parsed.kind === 'node') {
      this.setNode(parsed.name, parseNode(kv.value));
    } else if (parsed.kind === 'group') {
      const owner = parseOwner(kv.value);
      const term = kv.create_revision;
      const h = this.held.get(parsed.name);
      if (h && h.term !== term) {
        this.held.delete(parsed.name);
        this.demote(parsed.name, h, `etcd shows term ${term} for the group, ours was ${h.term}`);
      }
      this.setOwner(parsed.name, owner?.node ?? '?', term);
      // Ours under the current lease but unknown here: an acquire whose answer was lost.
      if (!this.held.has(parsed.name) && owner?.node === this.opts.node && kv.lease === this.lease?.id) {
        this.held.set(parsed.name, {
          term,
          leaseId: kv.lease,
          active: false,
          abandoned: false,
          moved: false,
        });
        this.activate(parsed.name);
      }
    }
  }

  private applyDelete(key: string, rev: number): void {
    const parsed = this.keys.parse(key);
    if (!this.fresh(key, rev)) return;
    if (parsed.kind === 'node') this.setNode(parsed.name, null);
    else if (parsed.kind === 'intent') {
      if (parsed.name in this.intentMap) {
        delete this.intentMap[parsed.name];
        this.emit({ type: 'intent', intent: this.intent() });
      }
    } else if (parsed.kind === 'group') {
      const h = this.held.get(parsed.name);
      if (h) {
        this.held.delete(parsed.name);
        this.demote(parsed.name, h, 'the lease key was deleted in etcd');
      }
      this.setOwner(parsed.name, null, null);
      this.scheduleAcquire(parsed.name, 0);
    }
  }

  private applyIntent(key: string, name: string, value: unknown, rev: number, modRev = rev): boolean {
    if (!this.fresh(key, rev)) return false;
    const cur = this.intentMap[name];
    if (cur && cur.version >= modRev) return false;
    this.intentMap[name] = { value, version: modRev };
    return true;
  }

  private setNode(name: string, record: NodeRecord | null): void {
    const cur = this.nodes.get(name);
    const wasUp = cur?.record != null;
    const changed =
      wasUp !== (record !== null) ||
      cur?.record?.eligible !== record?.eligible ||
      JSON.stringify(cur?.record?.reasons) !== JSON.stringify(record?.reasons);
    const lastSeenAt = record !== null || wasUp ? this.clock.now() : (cur?.lastSeenAt ?? null);
    this.nodes.set(name, { record, lastSeenAt });
    if (changed) this.emit({ type: 'membership', view: this.view() });
  }

  private refreshOwner(group: string): void {
    if (!this.owners.has(group)) this.setOwner(group, null, null);
  }

  private setOwner(group: string, owner: string | null, term: string | null): void {
    const prev = this.owners.get(group);
    if (prev && prev.owner === owner && prev.term === term) return;
    this.owners.set(group, { owner, term });
    this.emit({ type: 'owner', group, owner, term });
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
