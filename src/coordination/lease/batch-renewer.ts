import type { Timing } from '../../config/model.js';
import { type LeaseMath, leaseMath } from '../timing.js';
import { addToDigest, entryHash } from './lease-digest.js';
import {
  BATCH_GROUP,
  BROADCAST,
  type LeaseMessage,
  MAX_RENEWAL_ENTRIES,
  type Outgoing,
  type RenewalEntry,
} from './messages.js';
import type { Voter } from './proposer-types.js';

/**
 * One renewal round for every lease this node holds, instead of one PaxosLease round per
 * group: what keeps the steady cost of an owner flat in the number of groups.
 *
 * Every R it sends one RENEW to every voter naming the leases it renews by count and digest
 * (constant size). An acceptor that holds exactly those leases, each still acceptable as a
 * PROPOSE of its own ballot, extends them all and answers ok; one that differs (it restarted,
 * missed an acquisition, or promised a rival a higher ballot) answers not-ok and gets the
 * list (RENEW-LIST, in parts), which it treats as one PROPOSE per lease. A lease is renewed
 * from the round's t0 (its first send: every acceptor extends from a later instant) once a
 * majority by weight accepted it; a lease that a majority can no longer accept is handed back
 * to its proposer, which renews it with a round of its own (and demotes if a rival holds it).
 *
 * Why a re-PROPOSE of an old ballot without a PREPARE is safe: an acceptor takes it only
 * while no higher ballot was promised, so a rival that collected a majority of promises
 * blocks it at a majority; and an acceptor that forgot its promises by restarting stays
 * silent for M, past every lease begun before. ADR 0001 "Batched renewal" has the argument.
 *
 * Pure: `tick(now, entries)` and `handle(from, msg, now)` return the messages to send and the
 * leases renewed (with the t0 to apply) or refused. No sockets, no timers.
 */

export interface BatchRenewerOptions {
  node: string;
  voters: readonly Voter[];
  timing: Timing;
  /** Uniform [0, 1): the first round number (a restarted node never reuses one). */
  random?: () => number;
}

export interface BatchOutput {
  send: Outgoing[];
  /** Accepted by a majority: apply with `proposer.applyRenewal(entry, t0)`. */
  renewed: RenewalEntry[];
  /** A majority can no longer accept these: `proposer.renewAlone()`. */
  refused: RenewalEntry[];
  /**
   * Renewed (or still renewable), but some voter refused them: it promised a higher ballot to
   * a rival that got nowhere, and would refuse the re-proposed ballot forever, leaving the
   * lease on a bare majority. `proposer.renewAlone()` renews it once under a fresh ballot.
   */
  stale: RenewalEntry[];
  /** The t0 of the round the renewed entries belong to. */
  t0: number;
  /** A round ended with leases neither renewed nor refused: what each voter had answered. */
  unfinished?: UnfinishedRound;
}

/** For the log: why a round's leases ran out (their proposers demote them at their deadline). */
export interface UnfinishedRound {
  n: number;
  /** Leases in the round; those left open. */
  entries: number;
  open: number;
  /** How late the round ended (ms after t0). */
  ageMs: number;
  /** Per voter: `ok` (held the same set), `list a/b` (parts answered of b), or `silent`. */
  voters: Record<string, string>;
}

type VoterProgress = { kind: 'waiting' } | { kind: 'all' } | { kind: 'list'; answered: Set<number> };

interface BatchRound {
  n: number;
  t0: number;
  deadline: number;
  resendAt: number;
  entries: RenewalEntry[];
  digest: number;
  yes: Float64Array;
  no: Float64Array;
  /** OPEN, RENEWED or REFUSED. */
  settled: Uint8Array;
  /** Some voter refused the entry. */
  refusedBySome: Uint8Array;
  open: number;
  voters: Map<string, VoterProgress>;
}

const OPEN = 0;
const RENEWED = 2;
const REFUSED = 3;

/** Shortest gap between repeats of a round's messages (as the proposer's R/3 rule). */
const MIN_RESEND_MS = 10;

export class BatchRenewer {
  readonly #node: string;
  readonly #weights: ReadonlyMap<string, number>;
  readonly #totalWeight: number;
  readonly #timing: Timing;
  readonly #math: LeaseMath;
  #n: number;
  /** The round in flight, or the last one (settled, answering late voters) until the next starts. */
  #round: BatchRound | null = null;
  readonly #hashes = new Map<string, { b: number; term: number; hash: number }>();
  #nextAt = Number.NEGATIVE_INFINITY;

  constructor(options: BatchRenewerOptions) {
    this.#node = options.node;
    this.#weights = new Map(options.voters.map((v) => [v.name, v.weight ?? 1]));
    this.#totalWeight = [...this.#weights.values()].reduce((a, b) => a + b, 0);
    this.#timing = options.timing;
    this.#math = leaseMath(options.timing);
    this.#n = Math.floor((options.random ?? Math.random)() * 2 ** 40);
  }

  nextWakeAt(): number {
    const r = this.#round;
    if (!r) return this.#nextAt;
    return r.open === 0 ? Math.min(r.deadline, this.#nextAt) : Math.min(r.deadline, r.resendAt);
  }

  /** `entries` lists the leases to renew now (called only when a round starts). */
  tick(now: number, entries: () => RenewalEntry[]): BatchOutput {
    const out = this.#output();
    const r = this.#round;
    if (r && (now >= r.deadline || (r.open === 0 && now >= this.#nextAt))) {
      if (r.open > 0) out.unfinished = this.#unfinished(r, now);
      this.#round = null;
    } else if (r && r.open > 0 && now >= r.resendAt) this.#resend(r, now, out);
    if (!this.#round && now >= this.#nextAt) this.#start(now, entries(), out);
    return out;
  }

  handle(from: string, msg: LeaseMessage, now: number): BatchOutput {
    const out = this.#output();
    const r = this.#round;
    const w = this.#weights.get(from);
    if (!r || w === undefined || now >= r.deadline) return out;
    if (msg.type !== 'renewed' && msg.type !== 'renewed-list') return out;
    if (msg.n !== r.n) return out;
    const progress = r.voters.get(from);
    if (!progress) return out;
    if (msg.type === 'renewed') {
      if (progress.kind !== 'waiting') return out;
      if (msg.ok) {
        r.voters.set(from, { kind: 'all' });
        for (let i = 0; i < r.entries.length; i++) r.yes[i]! += w;
      } else {
        r.voters.set(from, { kind: 'list', answered: new Set() });
        for (let part = 0; part * MAX_RENEWAL_ENTRIES < r.entries.length; part++)
          out.send.push({ to: from, msg: this.#listPart(r, part) });
      }
    } else {
      if (progress.kind !== 'list' || progress.answered.has(msg.part)) return out;
      const first = msg.part * MAX_RENEWAL_ENTRIES;
      if (first >= r.entries.length) return out;
      progress.answered.add(msg.part);
      const refused = new Set(msg.refused);
      const last = Math.min(r.entries.length, first + MAX_RENEWAL_ENTRIES);
      for (let i = first; i < last; i++) {
        if (!refused.has(r.entries[i]![0])) {
          r.yes[i]! += w;
          continue;
        }
        r.no[i]! += w;
        if (r.refusedBySome[i]) continue;
        r.refusedBySome[i] = 1;
        if (r.settled[i] === RENEWED) out.stale.push(r.entries[i]!);
      }
    }
    this.#settle(r, now, out);
    return out;
  }

  /** The same leases round after round: each one's hash is computed once, not every R. */
  #hashOf(g: string, b: number, term: number): number {
    const known = this.#hashes.get(g);
    if (known && known.b === b && known.term === term) return known.hash;
    const hash = entryHash(g, b, term);
    this.#hashes.set(g, { b, term, hash });
    return hash;
  }

  #start(now: number, entries: RenewalEntry[], out: BatchOutput): void {
    this.#nextAt = now + this.#timing.renewMs;
    if (entries.length === 0) return;
    let digest = 0;
    for (const [g, b, term] of entries) digest = addToDigest(digest, this.#hashOf(g, b, term));
    const r: BatchRound = {
      n: ++this.#n,
      t0: now,
      deadline: now + Math.min(2 * this.#timing.renewMs, this.#math.demoteAtMs),
      resendAt: now + this.#resendGap(),
      entries,
      digest,
      yes: new Float64Array(entries.length),
      no: new Float64Array(entries.length),
      settled: new Uint8Array(entries.length),
      refusedBySome: new Uint8Array(entries.length),
      open: entries.length,
      voters: new Map([...this.#weights.keys()].map((v) => [v, { kind: 'waiting' }])),
    };
    this.#round = r;
    out.t0 = r.t0;
    out.send.push({ to: BROADCAST, msg: this.#renewMessage(r) });
  }

  #settle(r: BatchRound, now: number, out: BatchOutput): void {
    out.t0 = r.t0;
    // Too late to run and then stop safely (step 5 of a round): renew nothing from this t0.
    const late = now >= r.t0 + this.#math.demoteAtMs;
    for (let i = 0; i < r.entries.length; i++) {
      if (r.settled[i] !== OPEN) continue;
      if (!late && this.#isMajority(r.yes[i]!)) {
        r.settled[i] = RENEWED;
        r.open--;
        out.renewed.push(r.entries[i]!);
        if (r.refusedBySome[i]) out.stale.push(r.entries[i]!);
      } else if (!this.#isMajority(this.#totalWeight - r.no[i]!)) {
        r.settled[i] = REFUSED;
        r.open--;
        out.refused.push(r.entries[i]!);
      }
    }
    // A settled round stays until the next one starts: a voter that answers late that it
    // misses leases (it restarted) still gets the list and holds them again.
    if (late) this.#round = null;
  }

  #resend(r: BatchRound, now: number, out: BatchOutput): void {
    r.resendAt = now + this.#resendGap();
    for (const [voter, progress] of r.voters) {
      if (progress.kind === 'waiting') out.send.push({ to: voter, msg: this.#renewMessage(r) });
      else if (progress.kind === 'list')
        for (let part = 0; part * MAX_RENEWAL_ENTRIES < r.entries.length; part++)
          if (!progress.answered.has(part)) out.send.push({ to: voter, msg: this.#listPart(r, part) });
    }
  }

  #renewMessage(r: BatchRound): LeaseMessage {
    return {
      type: 'renew',
      g: BATCH_GROUP,
      n: r.n,
      owner: this.#node,
      count: r.entries.length,
      digest: r.digest,
      durMs: this.#timing.leaseMs,
    };
  }

  #listPart(r: BatchRound, part: number): LeaseMessage {
    const first = part * MAX_RENEWAL_ENTRIES;
    return {
      type: 'renew-list',
      g: BATCH_GROUP,
      n: r.n,
      part,
      owner: this.#node,
      entries: r.entries.slice(first, first + MAX_RENEWAL_ENTRIES),
      durMs: this.#timing.leaseMs,
    };
  }

  #resendGap(): number {
    return Math.max(MIN_RESEND_MS, this.#timing.renewMs / 3);
  }

  #isMajority(weight: number): boolean {
    return weight * 2 > this.#totalWeight;
  }

  #unfinished(r: BatchRound, now: number): UnfinishedRound {
    const parts = Math.ceil(r.entries.length / MAX_RENEWAL_ENTRIES);
    const voters: Record<string, string> = {};
    for (const [voter, p] of r.voters)
      voters[voter] =
        p.kind === 'all' ? 'ok' : p.kind === 'list' ? `list ${p.answered.size}/${parts}` : 'silent';
    return { n: r.n, entries: r.entries.length, open: r.open, ageMs: now - r.t0, voters };
  }

  #output(): BatchOutput {
    return { send: [], renewed: [], refused: [], stale: [], t0: 0 };
  }
}
