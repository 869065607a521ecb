import type { LogLine } from '../shell/coordinator-shell.js';
import type { NodeStatus } from '../types.js';
import {
  type AcquireResult,
  type EtcdCommand,
  type EtcdCoreOptions,
  type EtcdOutput,
  type HeldGroup,
  RANK_STEP_MS,
} from './etcd-commands.js';
import { EtcdMirror, EtcdOutputBuffer, type GroupNews, type KeyValue } from './etcd-mirror.js';
import type { HeldLease } from './lease-keeper.js';

/**
 * The decisions of the etcd backend, without etcd: a pure state machine fed with what etcd
 * answered (watch events, full reads, transaction results, the lease keeper's news) and the
 * monotonic time, answering with the commands the shell must carry out and the events for the
 * engine. Nothing here waits, sends or sets a timer.
 *
 * The rules it keeps (what etcd holds, revision-ordered, is {@link EtcdMirror}'s job):
 * - A group is ours while etcd shows our key under our current lease; the key's create
 *   revision is the term. Another term, a deleted key, or a lost lease demotes at once.
 * - The owner's deadline is local: it demotes at V − S after the send time of its last
 *   answered keepalive (`tick`), whether or not etcd answers, and then gives the lease up.
 * - After a group becomes free, a candidate of rank r tries only after r × 20 ms, so the
 *   preferred node wins the race.
 * - The takeover guard: when another node's key vanishes without a release recorded with it,
 *   the group is taken (its key created) at once but announced only one whole lease (the TTL)
 *   later. The old owner may have had a keepalive answered just before the key went, and then
 *   believes it owns the group for up to V after that; etcd can drop a lease early (a leader
 *   that was paused revokes leases it still thinks expired when it resumes; an operator's
 *   `etcdctl lease revoke`), so a deletion alone does not prove the old owner has stopped.
 */

export { RANK_STEP_MS };

export class EtcdCore {
  readonly opts: EtcdCoreOptions;
  readonly held = new Map<string, HeldGroup>();
  private readonly candidacy = new Map<string, number>();
  private readonly scheduled = new Set<string>();
  private readonly acquiring = new Set<string>();
  /** Released groups whose key could not be deleted yet (etcd unreachable). */
  private readonly releasing = new Map<string, string>();
  /** Per group: the last term its owner released (`<prefix>/released/<group>`). */
  private readonly releasedTerm = new Map<string, string>();
  /** Groups whose previous owner's key vanished without a release: not announced before `until`. */
  private readonly takeoverGuard = new Map<string, { term: string; until: number }>();
  private lease: HeldLease | undefined;
  private status: NodeStatus = { eligible: true, reasons: [] };
  private nodeRecordDirty = true;
  private polling = false;
  private nextPoll = 0;
  private lastPollOk = Number.NEGATIVE_INFINITY;
  private lastQuorum = false;
  /** A deadman helper is ready: without one nothing new is acquired (see DeadmanGuard). */
  private fenceable = true;
  private readonly buffer = new EtcdOutputBuffer<EtcdCommand>();
  /** What etcd holds, as far as this agent knows (read-only for the shell). */
  readonly mirror: EtcdMirror;

  constructor(opts: EtcdCoreOptions) {
    this.opts = opts;
    this.mirror = new EtcdMirror({
      epoch: opts.epoch,
      groups: opts.groups.map((g) => g.name),
      nodes: opts.nodes,
      keys: opts.keys,
      out: this.buffer,
      onGroup: (news, now) => this.onGroupKey(news, now),
    });
  }

  // ---- queries ---------------------------------------------------------------------------------

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

  // ---- inputs from the engine ------------------------------------------------------------------

  /** The first full read, before anything runs: every group gets a published owner. */
  begin(revision: number, kvs: readonly KeyValue[], now: number): EtcdOutput {
    this.mirror.applySnapshot(revision, kvs, now);
    for (const g of this.opts.groups)
      if (!this.mirror.hasOwnerEntry(g.name)) this.mirror.setOwner(g.name, null, null);
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

  /** The deadman helper died (false) or is back (true). */
  setFenceable(ready: boolean): EtcdOutput {
    this.fenceable = ready;
    if (ready) for (const g of this.candidacy.keys()) this.scheduleAcquire(g);
    return this.flush();
  }

  /**
   * A held group's demote point passed with no helper covering it: demote, and let the key run
   * out on the throwaway lease as after a failed stop (the engine stops the group meanwhile);
   * the candidacy stays, so the node competes again once the key is gone and a helper is up.
   */
  unfenced(group: string): EtcdOutput {
    const h = this.held.get(group);
    if (!h?.active) return this.flush();
    this.demote(group, h, 'the deadman helper is not running: no fencing past the demote point');
    h.abandoned = true;
    this.cmd({ type: 'move-abandoned', group, term: h.term });
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
    for (const [group, guard] of this.takeoverGuard) {
      if (now < guard.until) continue;
      this.takeoverGuard.delete(group);
      this.activate(group, now);
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
      this.buffer.events.push({ type: 'membership' });
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
    this.mirror.applyKv(kv, revision, now);
    return this.flush();
  }

  onDelete(key: string, revision: number, now: number): EtcdOutput {
    this.mirror.applyDelete(key, revision, now);
    return this.flush();
  }

  /** A periodic full read answered: apply it, then the retries it makes possible. */
  onSnapshot(revision: number, kvs: readonly KeyValue[], now: number): EtcdOutput {
    this.lastPollOk = now;
    this.mirror.applySnapshot(revision, kvs, now);
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
    if (!this.candidacy.has(group) || this.held.has(group) || this.mirror.epochMismatch || !this.fenceable)
      return this.flush();
    if (this.mirror.ownerOf(group) !== null) return this.flush();
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
        if (result.kv) this.mirror.applyKv(result.kv, result.revision, now);
        return this.flush();
      }
      term = result.kv.createRevision;
    }
    this.mirror.noteRevision(this.opts.keys.group(group), Number(term));
    // The watch may have adopted the key already (it can beat the transaction's answer).
    if (!this.held.has(group))
      this.held.set(group, { term, leaseId, active: false, abandoned: false, moved: false });
    this.mirror.setOwner(group, this.opts.node, term);
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

  // ---- internals -------------------------------------------------------------------------------

  /** Everything decided since the last output (after a direct change to the mirror). */
  flush(): EtcdOutput {
    return this.buffer.take() as EtcdOutput;
  }

  private cmd(c: EtcdCommand): void {
    this.buffer.commands.push(c);
  }

  private log(level: LogLine['level'], msg: string, fields?: Record<string, unknown>): void {
    this.buffer.log(level, msg, fields);
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
    if (this.mirror.ownerOf(group) !== null) return;
    this.scheduled.add(group);
    this.cmd({ type: 'schedule-acquire', group, delayMs: rank * RANK_STEP_MS });
  }

  /** Emits `acquired` for a held key once the lease leaves enough time to stop safely. */
  private activate(group: string, now: number): void {
    const h = this.held.get(group);
    const lease = this.lease;
    if (!h || h.active || h.abandoned || !lease || lease.id !== h.leaseId) return;
    if (!this.candidacy.has(group) || !this.fenceable) {
      // Nobody asked for it any more, or nothing could fence it: give it back rather than sit on it.
      this.held.delete(group);
      this.cmd({ type: 'delete-key', group, term: h.term });
      return;
    }
    if (now < (this.takeoverGuard.get(group)?.until ?? 0)) return;
    if (now >= lease.validUntil - this.opts.timing.stopBudgetMs) return;
    h.active = true;
    this.arm(group);
    this.log('info', 'lease acquired', { group, term: h.term });
    this.buffer.events.push({ type: 'acquired', group, term: h.term });
  }

  private demote(group: string, h: HeldGroup, reason: string): void {
    if (!h.active) return;
    h.active = false;
    // The deadman stays armed with the last deadline, in case the stop hangs.
    this.log('warn', 'lease lost: demoting', { group, term: h.term, reason });
    this.buffer.events.push({ type: 'demote', group, term: h.term, reason });
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

  /** Another node's key for the group is gone: unless it released it, wait out its lease. */
  private guardUnreleased(group: string, now: number): void {
    const owner = this.mirror.ownerOf(group);
    const term = this.mirror.termOf(group);
    if (owner === null || term === null || owner === this.opts.node) return;
    if (this.releasedTerm.get(group) === term) return;
    const waitMs = this.opts.timing.ttlSec * 1000;
    this.takeoverGuard.set(group, { term, until: now + waitMs });
    this.log('info', 'the owner key vanished without a release: taking over only after one lease', {
      group,
      previousOwner: owner,
      term,
      waitMs,
    });
  }

  /** A group key changed in etcd: what it means for a lease held (or lost) here. */
  private onGroupKey(news: GroupNews, now: number): void {
    const h = this.held.get(news.group);
    if (news.kind === 'released') {
      this.releasedTerm.set(news.group, news.term);
      // The release may arrive after the deletion it explains.
      if (this.takeoverGuard.get(news.group)?.term === news.term) {
        this.takeoverGuard.delete(news.group);
        this.activate(news.group, now);
      }
      return;
    }
    if (news.kind === 'deleted') {
      if (h) {
        this.held.delete(news.group);
        this.demote(news.group, h, 'the lease key was deleted in etcd');
      }
      this.guardUnreleased(news.group, now);
      this.mirror.setOwner(news.group, null, null);
      this.scheduleAcquire(news.group);
      return;
    }
    if (h && h.term !== news.term) {
      this.held.delete(news.group);
      this.demote(news.group, h, `etcd shows term ${news.term} for the group, ours was ${h.term}`);
    }
    this.mirror.setOwner(news.group, news.owner ?? '?', news.term);
    // Ours under the current lease but unknown here: an acquire whose answer was lost.
    if (!this.held.has(news.group) && news.owner === this.opts.node && news.lease === this.lease?.id) {
      this.held.set(news.group, {
        term: news.term,
        leaseId: news.lease,
        active: false,
        abandoned: false,
        moved: false,
      });
      this.activate(news.group, now);
    }
  }
}
