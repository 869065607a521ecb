import type { GroupConfig } from '../config/model.js';
import type { GroupRunner } from './group-runner.js';
import type { ResourceSlot, WallClock } from './resource-slot.js';
import type { LocalPhase, LocalRequest } from './scheduler.js';

/**
 * The one owner of a group's mutable state on this node. Other engine modules read it through
 * getters and change it only through the named transitions below, so every way a group's
 * phase, lease, requests or errors can change is listed here. No I/O: the caller does the side
 * effects a transition implies (coordinator calls, events). Resource state has its own owner,
 * `ResourceSlot`.
 */

/** A group with everything the engine keeps for it. */
export interface GroupSlot {
  /** Replaced by a config reload, which never changes the group's resources or their order. */
  config: GroupConfig;
  readonly state: GroupState;
  readonly resources: ReadonlyMap<string, ResourceSlot>;
  readonly runner: GroupRunner;
}

export class GroupState {
  private readonly clock: WallClock;
  private _phase: LocalPhase = 'stopped';
  private _since: number;
  private _held = false;
  private _term: string | null = null;
  private _owner: string | null = null;
  private _previousOwner: string | null = null;
  /** The last two distinct lease holders the owner events showed, newest first (fencing). */
  private _holders: Array<{ node: string; term: string }> = [];
  private _requests: LocalRequest[] = [];
  private _restarting = false;
  private _lastError: string | null = null;
  /** `undefined` until a candidacy was sent (or after a release dropped it): the next one is sent. */
  private _rank: number | null | undefined = undefined;
  private _chain: Promise<void> | null = null;
  private _lastChain: { signature: string; at: number } | null = null;
  private _abort: AbortController | null = null;
  private _lastProbeAt: number | null = null;

  constructor(clock: WallClock) {
    this.clock = clock;
    this._since = clock();
  }

  get phase(): LocalPhase {
    return this._phase;
  }
  /** When `phase` last changed (wall ms). */
  get since(): number {
    return this._since;
  }
  /** This node holds the group's lease. */
  get held(): boolean {
    return this._held;
  }
  get term(): string | null {
    return this._term;
  }
  /** Cluster-wide lease owner as the coordinator last reported it. */
  get owner(): string | null {
    return this._owner;
  }
  /** Requests waiting for the scheduler, oldest first (an immutable snapshot). */
  get requests(): readonly LocalRequest[] {
    return this._requests;
  }
  /** A single resource is being restarted (its monitors pause meanwhile). */
  get restarting(): boolean {
    return this._restarting;
  }
  get lastError(): string | null {
    return this._lastError;
  }
  get rank(): number | null | undefined {
    return this._rank;
  }
  /** The group's running action chain, if any (the next one waits for it). */
  get chain(): Promise<void> | null {
    return this._chain;
  }

  /** The last node other than this one seen holding the lease (null: none since this agent started). */
  get previousOwner(): string | null {
    return this._previousOwner;
  }

  /** Lease owner as seen from `self`: `self` only while held here. */
  ownerSeenBy(self: string): string | null {
    if (this._held) return self;
    return this._owner === self ? null : this._owner;
  }

  // ---- phase and errors ---------------------------------------------------------------------

  /** Returns whether the phase changed; `since` moves only then. */
  setPhase(phase: LocalPhase): boolean {
    if (this._phase === phase) return false;
    this._phase = phase;
    this._since = this.clock();
    return true;
  }

  /**
   * The operator vouches the resources of a failed stop are down: the group counts as stopped,
   * but only once the lease no longer is held here (it must run out first). Returns whether it did.
   */
  clearFailedStop(): boolean {
    if (this._phase !== 'failed-stop' || this._held) return false;
    return this.setPhase('stopped');
  }

  setError(error: string | null): void {
    this._lastError = error;
  }

  /** Returns whether the rank changed (then the caller sends the candidacy). */
  setRank(rank: number | null): boolean {
    if (this._rank === rank) return false;
    this._rank = rank;
    return true;
  }

  // ---- lease --------------------------------------------------------------------------------

  acquired(term: string): void {
    this._held = true;
    this._term = term;
  }

  /** The lease was lost; a start in progress is cut short. The term stays for the stop that follows. */
  demoted(reason: string): void {
    this._held = false;
    this._abort?.abort(new Error(`demoted: ${reason}`));
  }

  /** Released here: the backend also drops the candidacy, so the next rank is sent again. */
  released(): void {
    this._held = false;
    this._term = null;
    this._rank = undefined;
  }

  /**
   * Records the coordinator's view of the owner. An abandoned lease (failed stop) ends without
   * a demote: once the owner is no longer `self`, it is over here. Returns true in that case.
   */
  ownerChanged(owner: string | null, self: string): boolean {
    this._owner = owner;
    if (owner !== null && owner !== self) this._previousOwner = owner;
    if (this._phase !== 'failed-stop' || !this._held || owner === self) return false;
    this._held = false;
    this._term = null;
    return true;
  }

  /** Records a holder from an owner event (null owners and repeats are skipped). */
  sawHolder(owner: string | null, term: string | null): void {
    if (owner === null || term === null) return;
    const last = this._holders[0];
    if (last && last.node === owner && last.term === term) return;
    this._holders = [{ node: owner, term }, ...this._holders].slice(0, 2);
  }

  /**
   * Who held the lease before this node's lease of `term`: the newest holder seen that is not
   * that lease itself (the owner event of the new lease may come before or after `acquired`).
   */
  holderBefore(self: string, term: string): { node: string; term: string } | null {
    return this._holders.find((h) => !(h.node === self && h.term === term)) ?? null;
  }

  // ---- requests -----------------------------------------------------------------------------

  /** Copy-on-write, like the filters below: a `requests` view once read never changes. */
  request(request: LocalRequest): void {
    this._requests = [...this._requests, request];
  }

  /** Keeps only restart requests (this node is marked failed: failover requests are answered). */
  keepOnlyRestarts(): void {
    this._requests = this._requests.filter((r) => r.kind === 'restart');
  }

  /** Drops restart requests (the group stopped: there is nothing left to restart). */
  dropRestarts(): void {
    this._requests = this._requests.filter((r) => r.kind !== 'restart');
  }

  beginRestart(): void {
    this._restarting = true;
  }

  /** The restart of `resource` is over, whatever its outcome: its requests are answered. */
  endRestart(resource: string): void {
    this._restarting = false;
    this._requests = this._requests.filter((r) => !(r.kind === 'restart' && r.resource === resource));
  }

  // ---- start abort --------------------------------------------------------------------------

  /** A start begins: returns the signal that a demote or agent stop aborts. */
  beginStart(): AbortSignal {
    this._abort = new AbortController();
    return this._abort.signal;
  }

  endStart(): void {
    this._abort = null;
  }

  abortStart(reason: Error): void {
    this._abort?.abort(reason);
  }

  // ---- action chains ------------------------------------------------------------------------

  /**
   * The same actions again within `retryMs` of the last chain mean the world has not caught up
   * yet (e.g. an intent write not yet visible): the caller should wait instead of spinning.
   */
  repeatsTooSoon(signature: string, now: number, retryMs: number): boolean {
    return this._lastChain?.signature === signature && now - this._lastChain.at < retryMs;
  }

  /** Records the chain and runs it; `run` must end with `endChain` (both on success and failure). */
  beginChain(signature: string, now: number, run: () => Promise<void>): void {
    this._lastChain = { signature, at: now };
    this._chain = run();
  }

  /** When the group was last probed (monotonic ms), null before the first probe. */
  get lastProbeAt(): number | null {
    return this._lastProbeAt;
  }

  /** Makes the group due for a probe at once (`halo cleanup`). */
  forgetProbe(): void {
    this._lastProbeAt = null;
  }

  /**
   * A probe runs as the group's chain, so no start or stop overlaps it; unlike `beginChain` it
   * leaves the repeat guard alone. `run` must end with `endChain`.
   */
  beginProbe(now: number, run: () => Promise<void>): void {
    this._lastProbeAt = now;
    this._chain = run();
  }

  /** Clears the chain (before the next kick, so that reconcile sees the group idle). */
  endChain(error?: string): void {
    this._chain = null;
    if (error !== undefined) this._lastError = error;
  }
}
