import type { ClusterIntent } from '../types.js';

/**
 * Replication of admin intent writes, without sockets or timers. A write made here counts once
 * voters holding more than half of the total weight acknowledged it (this node acknowledges its
 * own write at once). Until then it is re-sent to the voters that have not answered every
 * `resendMs`; after `timeoutMs` without a majority it fails (the entries stay in the local map
 * and keep spreading through the periodic exchange, but the writer is told no majority
 * confirmed them).
 */

export interface ReplicationOptions {
  self: string;
  voters: ReadonlyArray<{ name: string; weight: number }>;
  /** How long a write may wait for a majority (ms). */
  timeoutMs: number;
}

/** Send the write `id` with `entries` to voter `to`. */
export interface IntentSend {
  to: string;
  id: number;
  entries: ClusterIntent;
}

export interface ReplicationOutput {
  send: IntentSend[];
  /** Writes a majority now holds: resolve them. */
  resolved: number[];
  /** Writes that ran out of time without a majority: reject them. */
  timedOut: number[];
}

interface PendingWrite {
  entries: ClusterIntent;
  acked: Set<string>;
  deadline: number;
}

export class IntentReplication {
  private readonly opts: ReplicationOptions;
  private readonly majority: number;
  private readonly pending = new Map<number, PendingWrite>();
  private nextId = 1;

  constructor(opts: ReplicationOptions) {
    this.opts = opts;
    this.majority = Math.floor(opts.voters.reduce((s, v) => s + v.weight, 0) / 2) + 1;
  }

  /** Writes still waiting for a majority. */
  get size(): number {
    return this.pending.size;
  }

  /** Starts a write; `id` names it in later outputs. */
  begin(entries: ClusterIntent, now: number): ReplicationOutput & { id: number } {
    const id = this.nextId++;
    const write: PendingWrite = {
      entries,
      acked: new Set([this.opts.self]),
      deadline: now + this.opts.timeoutMs,
    };
    this.pending.set(id, write);
    return { id, send: this.sendsFor(id, write), resolved: this.check(id), timedOut: [] };
  }

  /** Voter `from` stored write `id`. Acks for unknown or finished writes are ignored. */
  ack(id: number, from: string): ReplicationOutput {
    const w = this.pending.get(id);
    if (!w || !this.opts.voters.some((v) => v.name === from)) return empty();
    w.acked.add(from);
    return { send: [], resolved: this.check(id), timedOut: [] };
  }

  /** Time passed: fail writes past their deadline; re-send the others when `resend` is set. */
  tick(now: number, resend: boolean): ReplicationOutput {
    const out = empty();
    for (const [id, w] of this.pending) {
      if (now >= w.deadline) {
        this.pending.delete(id);
        out.timedOut.push(id);
      } else if (resend) out.send.push(...this.sendsFor(id, w));
    }
    return out;
  }

  /** The earliest deadline of a pending write (null: none). */
  nextWakeAt(): number | null {
    let at: number | null = null;
    for (const w of this.pending.values()) at = at === null ? w.deadline : Math.min(at, w.deadline);
    return at;
  }

  /** Forget every pending write (shutdown); returns their ids to reject. */
  cancelAll(): number[] {
    const ids = [...this.pending.keys()];
    this.pending.clear();
    return ids;
  }

  private sendsFor(id: number, w: PendingWrite): IntentSend[] {
    return this.opts.voters
      .filter((v) => !w.acked.has(v.name))
      .map((v) => ({ to: v.name, id, entries: w.entries }));
  }

  private check(id: number): number[] {
    const w = this.pending.get(id);
    if (!w) return [];
    const weight = this.opts.voters.filter((v) => w.acked.has(v.name)).reduce((s, v) => s + v.weight, 0);
    if (weight < this.majority) return [];
    this.pending.delete(id);
    return [id];
  }
}

function empty(): ReplicationOutput {
  return { send: [], resolved: [], timedOut: [] };
}
