import type { CoreEvent, LogLine } from '../shell/coordinator-shell.js';
import type { ClusterIntent, MemberView, NodeStatus } from '../types.js';
import { type EtcdKeys, type NodeRecord, parseJson, parseNode, parseOwner } from './etcd-keys.js';
import type { EtcdTiming } from './etcd-timing.js';
import type { HeldLease } from './lease-keeper.js';

/**
 * The decisions of the etcd backend, without etcd: a pure state machine fed with what etcd
 * answered (watch events, full reads, transaction results, the lease keeper's news) and the
 * monotonic time, answering with the commands the shell must carry out and the events for the
 * engine. Nothing here waits, sends or sets a timer.
 *
 * The rules it keeps:
 * - Per key, the newest revision wins: a slow full read never undoes a newer watch event.
 * - A group is ours while etcd shows our key under our current lease; the key's create
 *   revision is the term. Another term, a deleted key, or a lost lease demotes at once.
 * - The owner's deadline is local: it demotes at V − S after the send time of its last
 *   answered keepalive (`tick`), whether or not etcd answers, and then gives the lease up.
 * - After a group becomes free, a candidate of rank r tries only after r × 20 ms, so the
 *   preferred node wins the race.
 */

/** Back-off per rank step after a group becomes free. */
export const RANK_STEP_MS = 20;

/** One key as etcd reports it (the etcd3 client's IKeyValue, reduced to what matters). */
export interface KeyValue {
  key: string;
  value: Buffer | string;
  createRevision: string;
  modRevision: number;
  /** The lease the key is attached to ('0': none). */
  lease: string;
}

export type EtcdCommand =
  /** Call {@link EtcdCore.acquireDue} for the group after `delayMs`. */
  | { type: 'schedule-acquire'; group: string; delayMs: number }
  /** Create-if-absent transaction of the group key under `leaseId`; answer with onAcquired. */
  | { type: 'acquire'; group: string; leaseId: string }
  /** Delete the group key if its create revision is `term`; answer with onDeleted. */
  | { type: 'delete-key'; group: string; term: string }
  /** Move the abandoned group key to a lease nobody renews; answer with onMoved. */
  | { type: 'move-abandoned'; group: string; term: string }
  /** (Re)arm the deadman helper for a held group. */
  | { type: 'arm'; group: string; deadlineMonoMs: number }
  /** Give the lease up without revoking it (its keys expire with it); a new one is granted. */
  | { type: 'poison-lease' }
  /** Write this node's record under the lease; answer a failure with onNodeRecordFailed. */
  | { type: 'put-node-record'; leaseId: string; record: NodeRecord }
  /** Read everything under the prefix; answer with onSnapshot / onPollFailed. */
  | { type: 'poll' }
  | ({ type: 'log' } & LogLine);

export interface EtcdOutput {
  commands: EtcdCommand[];
  events: CoreEvent[];
}

export interface HeldGroup {
  term: string;
  leaseId: string;
  /** `acquired` was emitted and no `demote` since. */
  active: boolean;
  /** A stop failed: the key is to be moved to a lease nobody renews. */
  abandoned: boolean;
  /** Abandoned and the key is already on the throwaway lease. */
  moved: boolean;
}

export type AcquireResult =
  | { kind: 'created'; term: string }
  /** The key existed; `kv` is what the transaction read (null if nothing). */
  | { kind: 'exists'; kv: KeyValue | null; revision: number }
  | { kind: 'failed'; error: string };

export interface EtcdCoreOptions {
  node: string;
  bootId: string;
  epoch: number;
  /** Every group with its candidate nodes, and every node, from the config. */
  groups: ReadonlyArray<{ name: string; nodes: readonly string[] }>;
  nodes: readonly string[];
  timing: EtcdTiming;
  keys: EtcdKeys;
}

export class EtcdCore {
  readonly opts: EtcdCoreOptions;
  readonly held = new Map<string, HeldGroup>();
  private readonly candidacy = new Map<string, number>();
  private readonly owners = new Map<string, { owner: string | null; term: string | null }>();
  private readonly scheduled = new Set<string>();
  private readonly acquiring = new Set<string>();
  /** Released groups whose key could not be deleted yet (etcd unreachable). */
  private readonly releasing = new Map<string, string>();
  private readonly keyRev = new Map<string, number>();
  private readonly nodes = new Map<string, { record: NodeRecord | null; lastSeenAt: number | null }>();
  private intentMap: ClusterIntent = {};
  private lease: HeldLease | undefined;
  private status: NodeStatus = { eligible: true, reasons: [] };
  private nodeRecordDirty = true;
  private epochMismatch: string | null = null;
  private polling = false;
  private nextPoll = 0;
  private lastPollOk = Number.NEGATIVE_INFINITY;
  private lastQuorum = false;
  private out: EtcdOutput = { commands: [], events: [] };

  constructor(opts: EtcdCoreOptions) {
    this.opts = opts;
  }

  // ---- queries ---------------------------------------------------------------------------------

  intent(): ClusterIntent {
    return { ...this.intentMap };
  }

  isQuarantined(): boolean {
    return this.epochMismatch !== null;
  }

  /** etcd answers: a valid lease and a full read within the last three keepalive periods. */
  hasQuorum(now: number): boolean {
    return (
      this.lease !== undefined &&
      this.lease.validUntil > now &&
      now - this.lastPollOk < this.opts.timing.renewMs * 3
    );
  }

  /** Whether any group is held in a way that forbids revoking the lease at stop. */
  busy(): boolean {
    return [...this.held.values()].some((h) => h.active || h.abandoned);
  }

  isActive(group: string): boolean {
    return this.held.get(group)?.active === true;
  }

  validForMs(group: string, now: number): number | null {
    const lease = this.lease;
    const live = lease && lease.validUntil > now ? lease : undefined;
    return this.held.get(group)?.active && live ? Math.max(0, Math.round(live.validUntil - now)) : null;
  }

  members(now: number): MemberView[] {
    return this.opts.nodes.map((name) => {
      const seen = this.nodes.get(name);
      const up = seen?.record != null;
      return {
        name,
        kind: 'node',
        up,
        eligible: seen?.record?.eligible ?? false,
        reasons: seen?.record?.reasons ?? [],
        lastSeenAgoMs: up ? 0 : seen?.lastSeenAt != null ? Math.round(now - seen.lastSeenAt) : null,
        rttMs: null,
        configEpoch: seen?.record?.epoch ?? null,
      };
    });
  }

  // ---- inputs from the engine ------------------------------------------------------------------

  /** The first full read, before anything runs: every group gets a published owner. */
  begin(revision: number, kvs: readonly KeyValue[], now: number): EtcdOutput {
    this.applySnapshot(revision, kvs, now);
    for (const g of this.opts.groups) if (!this.owners.has(g.name)) this.setOwner(g.name, null, null);
    this.nextPoll = now + this.opts.timing.renewMs;
    return this.flush();
  }

  setCandidacy(group: string, rank: number | null): EtcdOutput {
    if (!this.opts.groups.some((g) => g.name === group && g.nodes.includes(this.opts.node)))
      return this.flush();
    if (rank === null) this.candidacy.delete(group);
    else {
      this.candidacy.set(group, rank);
      this.scheduleAcquire(group);
    }
    return this.flush();
  }

  /** A planned release: the returned term's key must be deleted (then call onDeleted). */
  release(group: string): { term: string | null } {
    const h = this.held.get(group);
    this.held.delete(group);
    // A release also drops the candidacy, as in the embedded backend.
    this.candidacy.delete(group);
    return { term: h?.term ?? null };
  }

  abandon(group: string): EtcdOutput {
    const h = this.held.get(group);
    this.candidacy.delete(group);
    if (!h) return this.flush();
    h.active = false;
    h.abandoned = true;
    this.log('error', 'abandoning the lease after a failed stop: the deadman helper fences at the deadline', {
      group,
    });
    this.cmd({ type: 'move-abandoned', group, term: h.term });
    return this.flush();
  }

  /** Fence actions changed: re-arm the helper if the group runs here. */
  rearm(group: string): EtcdOutput {
    if (this.held.get(group)?.active) this.arm(group);
    return this.flush();
  }

  setNodeStatus(status: NodeStatus): EtcdOutput {
    this.status = { eligible: status.eligible, reasons: [...status.reasons] };
    this.nodeRecordDirty = true;
    this.putNodeRecord();
    return this.flush();
  }

  // ---- inputs from etcd and the clock ----------------------------------------------------------

  /** Every 20 ms: the local deadline never waits for etcd. */
  tick(now: number): EtcdOutput {
    const { timing } = this.opts;
    const lease = this.lease;
    const active = [...this.held].filter(([, h]) => h.active);
    if (active.length > 0 && (!lease || now >= lease.validUntil - timing.stopBudgetMs)) {
      const quiet = lease ? Math.round(now - (lease.validUntil - timing.math.validityMs)) : null;
      for (const [group, h] of active)
        this.demote(group, h, `etcd unreachable: no keepalive answered for ${quiet ?? '?'}ms`);
      this.lease = undefined;
      this.cmd({ type: 'poison-lease' });
    }
    if (now >= this.nextPoll && !this.polling) {
      this.nextPoll = now + timing.renewMs;
      this.polling = true;
      this.cmd({ type: 'poll' });
    }
    const quorum = this.hasQuorum(now);
    if (quorum !== this.lastQuorum) {
      this.lastQuorum = quorum;
      this.log('info', quorum ? 'etcd reachable' : 'etcd unreachable', { quorum });
      this.out.events.push({ type: 'membership' });
    }
    return this.flush();
  }

  onLeaseGranted(lease: HeldLease, now: number): EtcdOutput {
    this.lease = lease;
    this.nodeRecordDirty = true;
    this.putNodeRecord();
    for (const g of this.candidacy.keys()) this.scheduleAcquire(g);
    this.leaseMoved(lease, now);
    return this.flush();
  }

  onLeaseRenewed(lease: HeldLease, now: number): EtcdOutput {
    this.lease = lease;
    this.leaseMoved(lease, now);
    return this.flush();
  }

  /** etcd says the lease is gone (expired or revoked): every group held under it is lost. */
  onLeaseLost(id: string): EtcdOutput {
    this.lease = undefined;
    for (const [group, h] of this.held) {
      if (h.leaseId !== id) continue;
      this.held.delete(group);
      if (h.active) this.demote(group, h, 'etcd expired our lease');
    }
    return this.flush();
  }

  onPut(kv: KeyValue, revision: number, now: number): EtcdOutput {
    this.applyKv(kv, revision, now);
    return this.flush();
  }

  onDelete(key: string, revision: number, now: number): EtcdOutput {
    this.applyDelete(key, revision, now);
    return this.flush();
  }

  /** A periodic full read answered: apply it, then the retries it makes possible. */
  onSnapshot(revision: number, kvs: readonly KeyValue[], now: number): EtcdOutput {
    this.lastPollOk = now;
    this.applySnapshot(revision, kvs, now);
    if (this.nodeRecordDirty) this.putNodeRecord();
    for (const [group, term] of this.releasing) this.cmd({ type: 'delete-key', group, term });
    for (const [group, h] of this.held)
      if (h.abandoned && !h.moved) this.cmd({ type: 'move-abandoned', group, term: h.term });
    return this.flush();
  }

  onPollFailed(error: string): EtcdOutput {
    this.polling = false;
    this.log('debug', 'etcd read failed', { err: error });
    return this.flush();
  }

  /** The commands of a poll were carried out: the next poll may start, candidates retry. */
  onPollDone(): EtcdOutput {
    this.polling = false;
    for (const g of this.candidacy.keys()) this.scheduleAcquire(g);
    return this.flush();
  }

  /** The rank back-off timer of a group fired: try to create its key if still sensible. */
  acquireDue(group: string, now: number): EtcdOutput {
    this.scheduled.delete(group);
    const lease = this.lease;
    if (!this.candidacy.has(group) || this.held.has(group) || this.epochMismatch) return this.flush();
    if (this.owners.get(group)?.owner != null) return this.flush();
    if (!lease || now >= lease.validUntil - this.opts.timing.stopBudgetMs) return this.flush();
    this.acquiring.add(group);
    this.cmd({ type: 'acquire', group, leaseId: lease.id });
    return this.flush();
  }

  onAcquired(group: string, leaseId: string, result: AcquireResult, now: number): EtcdOutput {
    this.acquiring.delete(group);
    let term: string;
    if (result.kind === 'failed') {
      this.log('debug', 'acquire attempt failed', { group, err: result.error });
      return this.flush();
    }
    if (result.kind === 'created') term = result.term;
    else {
      // An earlier attempt whose answer was lost may have created the key under our lease.
      if (!result.kv || result.kv.lease !== leaseId) {
        if (result.kv) this.applyKv(result.kv, result.revision, now);
        return this.flush();
      }
      term = result.kv.createRevision;
    }
    const key = this.opts.keys.group(group);
    this.keyRev.set(key, Math.max(this.keyRev.get(key) ?? 0, Number(term)));
    // The watch may have adopted the key already (it can beat the transaction's answer).
    if (!this.held.has(group))
      this.held.set(group, { term, leaseId, active: false, abandoned: false, moved: false });
    this.setOwner(group, this.opts.node, term);
    this.activate(group, now);
    return this.flush();
  }

  onDeleted(group: string, term: string, ok: boolean): EtcdOutput {
    if (ok) this.releasing.delete(group);
    else if (!this.releasing.has(group)) {
      this.releasing.set(group, term);
      this.log('warn', 'could not delete the lease key in etcd yet; retrying', { group });
    }
    return this.flush();
  }

  /** `moved`: the key now sits on the throwaway lease; `gone`: it was no longer ours. */
  onMoved(group: string, term: string, result: 'moved' | 'gone' | 'failed'): EtcdOutput {
    const h = this.held.get(group);
    if (!h || h.term !== term) return this.flush();
    if (result === 'failed') return this.flush();
    h.moved = true;
    if (result === 'gone') this.held.delete(group);
    return this.flush();
  }

  onNodeRecordFailed(): void {
    this.nodeRecordDirty = true;
  }

  /** An intent write was committed at `revision`. */
  onIntentWritten(entries: ReadonlyArray<[string, unknown]>, revision: number): EtcdOutput {
    let changed = false;
    for (const [k, v] of entries)
      changed = this.applyIntent(this.opts.keys.intent(k), k, v, revision) || changed;
    if (changed) this.out.events.push({ type: 'intent', intent: this.intent() });
    return this.flush();
  }

  // ---- internals -------------------------------------------------------------------------------

  private flush(): EtcdOutput {
    const out = this.out;
    this.out = { commands: [], events: [] };
    return out;
  }

  private cmd(c: EtcdCommand): void {
    this.out.commands.push(c);
  }

  private log(level: LogLine['level'], msg: string, fields?: Record<string, unknown>): void {
    this.cmd({ type: 'log', level, msg, ...(fields ? { fields } : {}) });
  }

  private leaseMoved(lease: HeldLease, now: number): void {
    for (const [group, h] of this.held) {
      if (h.leaseId !== lease.id || h.abandoned) continue;
      if (h.active) this.arm(group);
      else this.activate(group, now);
    }
  }

  private scheduleAcquire(group: string): void {
    const rank = this.candidacy.get(group);
    if (rank === undefined || this.held.has(group)) return;
    if (this.scheduled.has(group) || this.acquiring.has(group)) return;
    if (this.owners.get(group)?.owner != null) return;
    this.scheduled.add(group);
    this.cmd({ type: 'schedule-acquire', group, delayMs: rank * RANK_STEP_MS });
  }

  /** Emits `acquired` for a held key once the lease leaves enough time to stop safely. */
  private activate(group: string, now: number): void {
    const h = this.held.get(group);
    const lease = this.lease;
    if (!h || h.active || h.abandoned || !lease || lease.id !== h.leaseId) return;
    if (!this.candidacy.has(group)) {
      // Nobody asked for it any more: give it back rather than sit on it.
      this.held.delete(group);
      this.cmd({ type: 'delete-key', group, term: h.term });
      return;
    }
    if (now >= lease.validUntil - this.opts.timing.stopBudgetMs) return;
    h.active = true;
    this.arm(group);
    this.log('info', 'lease acquired', { group, term: h.term });
    this.out.events.push({ type: 'acquired', group, term: h.term });
  }

  private demote(group: string, h: HeldGroup, reason: string): void {
    if (!h.active) return;
    h.active = false;
    // The deadman stays armed with the last deadline, in case the stop hangs.
    this.log('warn', 'lease lost: demoting', { group, term: h.term, reason });
    this.out.events.push({ type: 'demote', group, term: h.term, reason });
  }

  private arm(group: string): void {
    const lease = this.lease;
    if (!lease) return;
    const { math } = this.opts.timing;
    this.cmd({ type: 'arm', group, deadlineMonoMs: lease.validUntil - (math.validityMs - math.deadmanAtMs) });
  }

  private putNodeRecord(): void {
    const lease = this.lease;
    if (!lease) return;
    this.nodeRecordDirty = false;
    this.cmd({
      type: 'put-node-record',
      leaseId: lease.id,
      record: {
        bootId: this.opts.bootId,
        epoch: this.opts.epoch,
        eligible: this.status.eligible,
        reasons: this.status.reasons,
      },
    });
  }

  private applySnapshot(revision: number, kvs: readonly KeyValue[], now: number): void {
    const seen = new Set<string>();
    for (const kv of kvs) {
      seen.add(kv.key);
      this.applyKv(kv, revision, now);
    }
    const { keys } = this.opts;
    const known = [
      ...this.opts.groups.map((g) => keys.group(g.name)),
      ...this.opts.nodes.map((n) => keys.node(n)),
      ...Object.keys(this.intentMap).map((k) => keys.intent(k)),
    ];
    for (const key of known) if (!seen.has(key)) this.applyDelete(key, revision, now);
  }

  /** Newest revision wins per key: a slow full read must not undo a newer watch event. */
  private fresh(key: string, rev: number): boolean {
    if ((this.keyRev.get(key) ?? 0) > rev) return false;
    this.keyRev.set(key, rev);
    return true;
  }

  private applyKv(kv: KeyValue, rev: number, now: number): void {
    const parsed = this.opts.keys.parse(kv.key);
    if (parsed.kind === 'intent') {
      if (this.applyIntent(kv.key, parsed.name, parseJson(kv.value), rev, kv.modRevision))
        this.out.events.push({ type: 'intent', intent: this.intent() });
      return;
    }
    if (!this.fresh(kv.key, rev)) return;
    if (parsed.kind === 'epoch') {
      const epoch = Number(kv.value.toString());
      if (epoch !== this.opts.epoch && this.epochMismatch === null) {
        this.epochMismatch = `etcd now holds config epoch ${epoch}, this agent runs ${this.opts.epoch}`;
        this.log('error', 'config epoch changed in etcd: acquiring nothing', {
          epoch,
          ours: this.opts.epoch,
        });
      }
    } else if (parsed.kind === 'node') {
      this.setNode(parsed.name, parseNode(kv.value), now);
    } else if (parsed.kind === 'group') {
      const owner = parseOwner(kv.value);
      const term = kv.createRevision;
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
        this.activate(parsed.name, now);
      }
    }
  }

  private applyDelete(key: string, rev: number, now: number): void {
    const parsed = this.opts.keys.parse(key);
    if (!this.fresh(key, rev)) return;
    if (parsed.kind === 'node') this.setNode(parsed.name, null, now);
    else if (parsed.kind === 'intent') {
      if (parsed.name in this.intentMap) {
        delete this.intentMap[parsed.name];
        this.out.events.push({ type: 'intent', intent: this.intent() });
      }
    } else if (parsed.kind === 'group') {
      const h = this.held.get(parsed.name);
      if (h) {
        this.held.delete(parsed.name);
        this.demote(parsed.name, h, 'the lease key was deleted in etcd');
      }
      this.setOwner(parsed.name, null, null);
      this.scheduleAcquire(parsed.name);
    }
  }

  private applyIntent(key: string, name: string, value: unknown, rev: number, modRev = rev): boolean {
    if (!this.fresh(key, rev)) return false;
    const cur = this.intentMap[name];
    if (cur && cur.version >= modRev) return false;
    this.intentMap[name] = { value, version: modRev };
    return true;
  }

  private setNode(name: string, record: NodeRecord | null, now: number): void {
    const cur = this.nodes.get(name);
    const wasUp = cur?.record != null;
    const changed =
      wasUp !== (record !== null) ||
      cur?.record?.eligible !== record?.eligible ||
      JSON.stringify(cur?.record?.reasons) !== JSON.stringify(record?.reasons);
    const lastSeenAt = record !== null || wasUp ? now : (cur?.lastSeenAt ?? null);
    this.nodes.set(name, { record, lastSeenAt });
    if (changed) this.out.events.push({ type: 'membership' });
  }

  private setOwner(group: string, owner: string | null, term: string | null): void {
    const prev = this.owners.get(group);
    if (prev && prev.owner === owner && prev.term === term) return;
    this.owners.set(group, { owner, term });
    this.out.events.push({ type: 'owner', group, owner, term });
  }
}
