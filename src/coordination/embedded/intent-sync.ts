import { HaloError } from '../../errors.js';
import type { ClusterIntent, IntentEntry } from '../types.js';
import { IntentReplication, type ReplicationOutput } from './intent-replication.js';
import {
  type IntentDigest,
  IntentStore,
  isIntentDigest,
  type PersistFn,
  sameDigest,
} from './intent-store.js';

/** Intent messages between voters (heartbeats and lease messages travel beside them). */
export type IntentEnvelope =
  | { k: 'intent'; entries: ClusterIntent; id?: number }
  | { k: 'intent-ack'; id: number }
  /** The periodic exchange: the sender's fingerprint; a receiver whose copy differs answers. */
  | { k: 'intent-digest'; d: IntentDigest }
  /** "Send me your whole copy" (after a digest that differed). */
  | { k: 'intent-pull' };

export interface IntentSyncOptions {
  self: string;
  /** This node's index among the voters: the low part of its intent versions. */
  voterIndex: number;
  voters: ReadonlyArray<{ name: string; weight: number }>;
  /** Where the local copy lives (undefined: memory only). */
  file?: string;
  timeoutMs: number;
  send: (to: string, env: IntentEnvelope) => void;
  flush: () => void;
  /** The local copy changed (written here or merged from a peer). */
  changed: () => void;
  /** The local copy stopped (error) or started again (null) being on disk. */
  persistChanged?: (error: HaloError | null) => void;
  /** Replaces the durable file write (tests). */
  persist?: PersistFn;
}

/**
 * The embedded backend's replicated admin intent, wired to the transport: the local store, the
 * writes waiting for a majority (their promises), the periodic exchange that lets a restarted
 * node converge, and the answers to peers. The majority rule is {@link IntentReplication}'s.
 */
export class IntentSync {
  private readonly opts: IntentSyncOptions;
  private readonly store: IntentStore;
  private readonly writes: IntentReplication;
  private readonly waiting = new Map<
    number,
    { resolve: () => void; reject: (err: Error) => void; keys: string[] }
  >();

  constructor(opts: IntentSyncOptions) {
    this.opts = opts;
    this.store = new IntentStore(opts.file, opts.persist);
    this.writes = new IntentReplication({ self: opts.self, voters: opts.voters, timeoutMs: opts.timeoutMs });
  }

  load(): void {
    this.store.load();
  }

  snapshot(): ClusterIntent {
    return this.store.snapshot();
  }

  /** Why the local copy could not be stored, while it cannot (null: it is on disk). */
  persistError(): HaloError | null {
    return this.store.durable ? null : this.store.persistError;
  }

  /**
   * Stores the values on this node's disk first, then proposes them; resolves once a majority
   * of voters holds them. When the local disk refuses (no space, I/O error, read-only) it
   * rejects with HALO_E_STATE_WRITE_FAILED before anything is applied or sent, so the write is
   * refused everywhere instead of being half-applied.
   */
  write(values: Record<string, unknown>, now: number): Promise<void> {
    const entries = this.store.prepare(values, this.opts.voterIndex);
    const wasDurable = this.store.durable;
    let changed: boolean;
    try {
      changed = this.store.commit(entries);
    } catch (err) {
      this.reportPersist(wasDurable);
      const e = err as HaloError;
      return Promise.reject(
        new HaloError(e.code, `${e.message}: the change was refused before any node applied it`, e.details, {
          cause: e,
        }),
      );
    }
    this.reportPersist(wasDurable);
    if (changed) this.opts.changed();
    return new Promise<void>((resolve, reject) => {
      const out = this.writes.begin(entries, now);
      this.waiting.set(out.id, { resolve, reject, keys: Object.keys(values) });
      this.apply(out);
    });
  }

  /** A peer's intent message; false when `payload` is not one. */
  receive(from: string, payload: unknown): boolean {
    const env = payload as IntentEnvelope | null;
    if (env?.k === 'intent' && typeof env.entries === 'object' && env.entries !== null) {
      // Applied even when it cannot be stored here (see IntentStore.adopt), but acknowledged
      // only once on disk: a voter that would lose the write on restart does not count.
      const wasDurable = this.store.durable;
      const r = this.store.adopt(env.entries as Record<string, IntentEntry>);
      this.reportPersist(wasDurable);
      if (r.changed) this.opts.changed();
      // An empty write (doctor's probe) stores nothing, so acknowledging it claims nothing.
      const empty = Object.keys(env.entries).length === 0;
      if (typeof env.id === 'number' && (r.durable || empty))
        this.opts.send(from, { k: 'intent-ack', id: env.id });
      return true;
    }
    if (env?.k === 'intent-ack' && typeof env.id === 'number') {
      this.apply(this.writes.ack(env.id, from));
      return true;
    }
    if (env?.k === 'intent-digest' && isIntentDigest(env.d)) {
      // Copies differ: each side sends the other its whole map, so both end with the union.
      if (!sameDigest(env.d, this.store.digest())) {
        this.sendAll(from);
        this.opts.send(from, { k: 'intent-pull' });
      }
      return true;
    }
    if (env?.k === 'intent-pull') {
      this.sendAll(from);
      return true;
    }
    return false;
  }

  private sendAll(to: string): void {
    const entries = this.snapshot();
    if (Object.keys(entries).length > 0) this.opts.send(to, { k: 'intent', entries });
  }

  /**
   * Time passed; `exchange`: send every peer the map's digest (a peer whose copy differs
   * answers with its map and asks for ours) and re-send pending writes.
   */
  tick(now: number, exchange: boolean): void {
    if (exchange && !this.store.durable) {
      this.store.retry();
      this.reportPersist(false);
    }
    if (exchange) {
      const d = this.store.digest();
      for (const v of this.opts.voters)
        if (v.name !== this.opts.self) this.opts.send(v.name, { k: 'intent-digest', d });
    }
    this.apply(this.writes.tick(now, exchange));
  }

  /** The earliest deadline of a write still waiting for a majority (null: none). */
  nextWakeAt(): number | null {
    return this.writes.nextWakeAt();
  }

  /** Shutdown: every write still waiting fails. */
  cancelAll(): void {
    for (const id of this.writes.cancelAll())
      this.settle(id, new HaloError('HALO_E_NO_QUORUM', 'the agent is stopping'));
  }

  private reportPersist(wasDurable: boolean): void {
    if (wasDurable !== this.store.durable) this.opts.persistChanged?.(this.persistError());
  }

  private apply(out: ReplicationOutput): void {
    for (const s of out.send) this.opts.send(s.to, { k: 'intent', entries: s.entries, id: s.id });
    if (out.send.length > 0) this.opts.flush();
    for (const id of out.resolved) this.settle(id);
    for (const id of out.timedOut) {
      const keys = this.waiting.get(id)?.keys ?? [];
      this.settle(
        id,
        new HaloError(
          'HALO_E_NO_QUORUM',
          'the change is saved on this node but a majority of voters did not confirm it; it spreads when they are reachable',
          { keys },
        ),
      );
    }
  }

  private settle(id: number, error?: Error): void {
    const w = this.waiting.get(id);
    this.waiting.delete(id);
    if (!w) return;
    if (error) w.reject(error);
    else w.resolve();
  }
}
