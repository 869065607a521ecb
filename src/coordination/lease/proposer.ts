import type { Timing } from '../../config/model.js';
import { type LeaseMath, leaseMath } from '../timing.js';
import { NO_BALLOT, nextBallot } from './ballot.js';
import type { LeaseMessage, RenewalEntry, ReportedLease } from './messages.js';
import { BROADCAST } from './messages.js';
import type {
  LeaseEvent,
  Ownership,
  ProposerOptions,
  ProposerOutput,
  Round,
  Voter,
} from './proposer-types.js';

/**
 * The PaxosLease proposer of one node for one group.
 * A pure state machine: `tick(now)` and `handle(from, msg, now)` take the monotonic time and
 * return the messages to send and the events for the engine. The shell calls `tick` at
 * `nextWakeAt()` (or on its own timer, at least every few ms) and routes every
 * promise/nack/accepted/expired for this group to `handle`. `to: '*'` means every voter.
 *
 *   const p = new LeaseProposer({ node, group, voters, timing, ballotIndex });
 *   p.setCandidacy(rank);                          // null = do not compete
 *   at p.nextWakeAt():        apply(p.tick(now));
 *   on a reply for `group`:   apply(p.handle(from, msg, now));
 *   planned move:             stop resources, then apply(p.release(now));
 *   // apply(out): send out.send; hand out.events to the engine (term → termToString).
 *
 * Rounds: PREPARE(b) to all → majority of promises (by weight) → PROPOSE(b, self, term, D)
 * → majority of ACCEPTED → owner until validUntil = t0 + V (V from `leaseMath`). The owner
 * starts a new round every R (extension: same term); a new acquisition takes term = b, which
 * is above every term any earlier owner held (a promise majority intersects its accept
 * majority), so terms only increase.
 *
 * t0 is taken when the round's PREPARE is sent, i.e. before the PROPOSE as the spec asks,
 * and deliberately not later: an acceptor that restarts forgets its promises, and its
 * quarantine M only covers rounds that *started* before the restart. A round whose promises
 * were delayed across another voter's restart would otherwise keep a full window V after
 * that voter came back, overlapping a rival that the forgotten promise should have blocked.
 * The price is the PREPARE round trip (sub-millisecond on a LAN) taken off each window.
 *
 * Events (times are this node's monotonic ms):
 * - acquired {term, validUntil}: start resources under `term`.
 * - extended {term, validUntil}: renewal succeeded; move the deadman deadline.
 * - demote {term, reason}: stop resources now. Fires at t0 + V − S of the last good round, or
 *   at once when a reply shows another node's lease (then the round is abandoned).
 * - ownerSeen {owner, term}: a promise reported another node's lease (for status).
 *
 * Other rules: a promise reporting another node's unexpired lease aborts the round and
 * retries after its remaining time (or an EXPIRED push) plus rank × 20 ms; a NACK majority
 * raises the ballot and retries after the same back-off; replies to older ballots are
 * ignored; a round that cannot finish before its demote point counts as failed.
 *
 * Loss: a round does not wait for its deadline to recover a lost datagram. Every R/3 (at least
 * 10 ms) it sends its current PREPARE or PROPOSE again, same ballot, to the voters that have not
 * answered. Acceptors answer a repeat like the original (a repeated PROPOSE only moves their
 * expiry later, which is the safe direction). Under ~30 % loss per path one round then almost
 * always completes long before the owner's demote point, where without repeats two lost
 * datagrams in a row cost the lease.
 */

/** Back-off per rank step, so a preferred candidate wins the race after a lease ends. */
export const RANK_BACKOFF_MS = 20;
/** Random extra back-off, so two proposers of equal rank do not duel forever. */
const JITTER_MS = 5;
/** Shortest gap between repeats of a round's message (the R/3 rule's floor). */
const MIN_RESEND_MS = 10;
/** A candidate whose own acceptor holds the rival's lease re-checks only every this many D. */
const LOCAL_WATCH_FALLBACK_LEASES = 8;

export type { LeaseEvent, ProposerOptions, ProposerOutput, Voter };

export class LeaseProposer {
  readonly #node: string;
  readonly #group: string;
  readonly #weights: ReadonlyMap<string, number>;
  readonly #totalWeight: number;
  readonly #timing: Timing;
  readonly #math: LeaseMath;
  readonly #ballotIndex: number;
  readonly #wallClock: () => number;
  readonly #random: () => number;
  readonly #batchRenewal: boolean;

  #rank: number | null = null;
  #candidacyChanged = false;
  #lastSeen = NO_BALLOT;
  #round: Round | null = null;
  #owner: Ownership | null = null;
  #retryAt = Number.POSITIVE_INFINITY;
  #renewAt = Number.POSITIVE_INFINITY;
  #lastOwnerSeen = '';

  constructor(options: ProposerOptions) {
    this.#node = options.node;
    this.#group = options.group;
    this.#weights = new Map(options.voters.map((v) => [v.name, v.weight ?? 1]));
    this.#totalWeight = [...this.#weights.values()].reduce((a, b) => a + b, 0);
    this.#timing = options.timing;
    this.#math = leaseMath(options.timing);
    this.#ballotIndex = options.ballotIndex;
    this.#wallClock = options.wallClock ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#batchRenewal = options.batchRenewal ?? false;
  }

  get group(): string {
    return this.#group;
  }

  /**
   * Whether to try to hold the group and with which rank (0 = most preferred). null = do not
   * try; a lease already held is kept (and renewed) until `release`. Takes effect on the next
   * `tick`.
   */
  setCandidacy(rank: number | null): void {
    this.#rank = rank;
    this.#candidacyChanged = true;
  }

  candidacy(): number | null {
    return this.#rank;
  }

  /** May this node run the group's resources at `now`? (Owner and before its demote point.) */
  isOwner(now: number): boolean {
    return this.#owner !== null && now < this.#owner.demoteAt;
  }

  /** End of the current lease window (monotonic ms), or null when not owner. */
  validUntil(): number | null {
    return this.#owner?.validUntil ?? null;
  }

  /** When the owner must have stopped its resources (t0 + V − S), or null. */
  demoteAt(): number | null {
    return this.#owner?.demoteAt ?? null;
  }

  /** The term of the lease held, or null. */
  term(): number | null {
    return this.#owner?.term ?? null;
  }

  /** When `tick` next has work (monotonic ms; may be in the past = now). */
  nextWakeAt(): number {
    if (this.#candidacyChanged) return Number.NEGATIVE_INFINITY;
    let t = Number.POSITIVE_INFINITY;
    if (this.#owner) t = Math.min(t, this.#owner.demoteAt);
    if (this.#round) t = Math.min(t, this.#round.deadline, this.#round.resendAt);
    else if (this.#owner) {
      // A batched owner's renewals are the renewer's: its own renewAt and its retryAt (left
      // from before it won) are not due, and reporting them woke the coordinator every 1 ms.
      if (!this.#batchRenewal) t = Math.min(t, this.#renewAt);
    } else if (this.#rank !== null) t = Math.min(t, this.#retryAt);
    return t;
  }

  /**
   * `localLease`: the lease this node's own acceptor holds for the group now, if any. While it
   * is another node's and live, a PREPARE cannot succeed (this acceptor would report it and the
   * round would abort), so a due candidate waits for its end (or the acceptor's EXPIRED push)
   * instead of asking every voter: with N groups, a standby re-asking every group was most of
   * an idle cluster's lease traffic. `mayAcquire` false: do everything else that is due but
   * start no acquisition round (see `acquisitionDue`).
   */
  tick(now: number, localLease?: () => ReportedLease | null, mayAcquire = true): ProposerOutput {
    const out: ProposerOutput = { send: [], events: [] };
    this.#checkDemote(now, out);
    if (this.#candidacyChanged) {
      this.#candidacyChanged = false;
      if (this.#rank === null) this.#retryAt = Number.POSITIVE_INFINITY;
      else if (this.#retryAt === Number.POSITIVE_INFINITY) this.#retryAt = now + this.#backoff();
    }
    if (this.#round && now >= this.#round.deadline) this.#roundFailed(now);
    if (this.#round && now >= this.#round.resendAt) this.#resend(this.#round, now, out);
    if (!this.#round) {
      if (this.#owner) {
        if (now >= this.#renewAt && !this.#batchRenewal) this.#startRound(now, out);
      } else if (mayAcquire && this.#rank !== null && now >= this.#retryAt) {
        const held = localLease?.() ?? null;
        if (held !== null && held.owner !== this.#node && held.remainingMs > 0) {
          this.#noteOwner(held.owner, held.term, out);
          this.#retryAt = now + held.remainingMs + this.#backoff();
        } else this.#startRound(now, out);
      }
    }
    return out;
  }

  /**
   * After a `tick(now, …, false)`: an acquisition attempt is due and waits for the caller's
   * permission (the node's AcquisitionPacer); the rank it would be made with.
   */
  acquisitionDue(now: number): number | null {
    if (this.#candidacyChanged || this.#owner || this.#round || this.#rank === null) return null;
    return now >= this.#retryAt ? this.#rank : null;
  }

  handle(from: string, msg: LeaseMessage, now: number): ProposerOutput {
    const out: ProposerOutput = { send: [], events: [] };
    if (msg.g !== this.#group) return out;
    this.#checkDemote(now, out);
    switch (msg.type) {
      case 'promise':
        this.#onPromise(from, msg, now, out);
        break;
      case 'nack':
        this.#onNack(from, msg, now);
        break;
      case 'accepted':
        this.#onAccepted(from, msg, now, out);
        break;
      case 'expired':
        // Someone's lease ended somewhere: a waiting candidate retries now (after its rank).
        if (!this.#owner && !this.#round && this.#rank !== null) {
          this.#retryAt = Math.min(this.#retryAt, now + this.#backoff());
        }
        break;
      default:
        break;
    }
    return out;
  }

  /**
   * Planned hand-over (the protocol's last step), called once local resources are stopped:
   * sends RELEASE for the held term (and for a round in flight) and gives up candidacy; call
   * `setCandidacy` again to compete later. Emits no event: the caller already stopped.
   */
  release(_now: number): ProposerOutput {
    const out: ProposerOutput = { send: [], events: [] };
    const terms = new Set<number>();
    if (this.#owner) terms.add(this.#owner.term);
    if (this.#round?.phase === 'propose') terms.add(this.#round.term);
    for (const term of terms) {
      out.send.push({ to: BROADCAST, msg: { type: 'release', g: this.#group, owner: this.#node, term } });
    }
    this.#owner = null;
    this.#round = null;
    this.#rank = null;
    this.#candidacyChanged = false;
    this.#retryAt = Number.POSITIVE_INFINITY;
    this.#renewAt = Number.POSITIVE_INFINITY;
    return out;
  }

  /**
   * What a batched renewal re-proposes for this group now: the lease held, while no round of
   * its own is in flight; null otherwise.
   */
  renewalEntry(now: number): RenewalEntry | null {
    const own = this.#owner;
    if (!own || this.#round || now >= own.demoteAt) return null;
    return [this.#group, own.b, own.term];
  }

  /**
   * A batched renewal that started at `t0` (its first send) got `entry` accepted by a
   * majority: the lease now runs from t0, as after a round of its own. Ignored when the lease
   * changed meanwhile or when too little of the window is left (as in step 5 of a round).
   */
  applyRenewal(entry: RenewalEntry, t0: number, now: number): ProposerOutput {
    const out: ProposerOutput = { send: [], events: [] };
    this.#checkDemote(now, out);
    const own = this.#owner;
    if (!own || own.b !== entry[1] || own.term !== entry[2]) return out;
    if (now >= t0 + this.#math.demoteAtMs || t0 + this.#math.validityMs <= own.validUntil) return out;
    own.validUntil = t0 + this.#math.validityMs;
    own.demoteAt = t0 + this.#math.demoteAtMs;
    this.#renewAt = t0 + this.#timing.renewMs;
    out.events.push({ type: 'extended', term: own.term, validUntil: own.validUntil });
    return out;
  }

  /**
   * A batched renewal was refused by enough voters that it cannot succeed for this group:
   * renew with a round of its own now (a fresh ballot; its promises show a rival's lease,
   * and then it demotes).
   */
  renewAlone(now: number): ProposerOutput {
    const out: ProposerOutput = { send: [], events: [] };
    this.#checkDemote(now, out);
    if (this.#owner && !this.#round) this.#startRound(now, out);
    return out;
  }

  #startRound(now: number, out: ProposerOutput): void {
    const b = nextBallot(this.#lastSeen, this.#wallClock(), this.#ballotIndex);
    this.#lastSeen = b;
    this.#round = {
      b,
      phase: 'prepare',
      t0: now,
      deadline: now + Math.min(2 * this.#timing.renewMs, this.#math.demoteAtMs),
      resendAt: now + this.#resendGap(),
      kind: 'acquire',
      term: b,
      replied: new Set(),
      yes: 0,
      no: 0,
      maxSelfTerm: -1,
    };
    if (this.#owner) this.#renewAt = now + this.#timing.renewMs;
    out.send.push({ to: BROADCAST, msg: this.#phaseMessage(this.#round) });
  }

  #onPromise(
    from: string,
    msg: Extract<LeaseMessage, { type: 'promise' }>,
    now: number,
    out: ProposerOutput,
  ): void {
    if (msg.accepted) this.#see(msg.accepted.b);
    const r = this.#round;
    const w = this.#weights.get(from);
    if (!r || r.b !== msg.b || r.phase !== 'prepare' || w === undefined || r.replied.has(from)) return;
    r.replied.add(from);
    const acc = msg.accepted;
    if (acc && acc.remainingMs > 0) {
      if (acc.owner !== this.#node && this.#owner && acc.term < this.#owner.term) {
        // A rival's lease under a lower term than ours, still live at this one acceptor: a
        // remnant of a round that lost to ours (a majority promised our ballot first, so it
        // never reached a majority). Demoting on it would hand over a healthy lease (seen
        // after a heal, when both nodes raced). Count the answer as a refusal, nothing more.
        r.no += w;
        if (!this.#isMajority(this.#totalWeight - r.no)) this.#roundFailed(now);
        return;
      }
      if (acc.owner !== this.#node) {
        this.#noteOwner(acc.owner, acc.term, out);
        if (this.#owner) this.#demote(now, `${acc.owner} holds the lease (term ${acc.term})`, out);
        this.#round = null;
        // This node's own acceptor holds the rival's lease: it pushes EXPIRED to us (no network
        // in between) when that lease ends or is released, so polling at its remaining time is
        // not needed; a rare check stays as a backstop. With N groups, a standby polling every
        // group at every lease end was most of an idle cluster's traffic.
        const waits = from === this.#node ? LOCAL_WATCH_FALLBACK_LEASES * this.#timing.leaseMs : 0;
        this.#retryAt = now + Math.max(acc.remainingMs, waits) + this.#backoff();
        return;
      }
      r.maxSelfTerm = Math.max(r.maxSelfTerm, acc.term);
    }
    r.yes += w;
    if (!this.#isMajority(r.yes)) return;

    const own = this.#owner;
    if (own && r.maxSelfTerm <= own.term) {
      r.kind = 'extend';
      r.term = own.term;
    } else {
      // Our own lease under another term (a previous incarnation, or a round we gave up) is
      // replaced by a fresh term: reusing it could hand out a term lower than one a rival
      // was granted meanwhile.
      if (own) this.#demote(now, 'lease term changed', out);
      r.kind = 'acquire';
      r.term = r.b;
    }
    if (now >= r.t0 + this.#math.demoteAtMs) {
      this.#roundFailed(now);
      return;
    }
    r.phase = 'propose';
    r.replied = new Set();
    r.yes = 0;
    r.no = 0;
    r.resendAt = now + this.#resendGap();
    out.send.push({ to: BROADCAST, msg: this.#phaseMessage(r) });
  }

  /** The message of the round's current phase (sent first to all, repeated to the silent). */
  #phaseMessage(r: Round): LeaseMessage {
    if (r.phase === 'prepare') return { type: 'prepare', g: this.#group, b: r.b };
    return {
      type: 'propose',
      g: this.#group,
      b: r.b,
      owner: this.#node,
      term: r.term,
      durMs: this.#timing.leaseMs,
    };
  }

  #resend(r: Round, now: number, out: ProposerOutput): void {
    r.resendAt = now + this.#resendGap();
    const msg = this.#phaseMessage(r);
    for (const name of this.#weights.keys()) {
      if (!r.replied.has(name)) out.send.push({ to: name, msg });
    }
  }

  #resendGap(): number {
    return Math.max(MIN_RESEND_MS, this.#timing.renewMs / 3);
  }

  #onNack(from: string, msg: Extract<LeaseMessage, { type: 'nack' }>, now: number): void {
    this.#see(msg.promised);
    const r = this.#round;
    const w = this.#weights.get(from);
    if (!r || r.b !== msg.b || w === undefined || r.replied.has(from)) return;
    r.replied.add(from);
    r.no += w;
    if (this.#isMajority(this.#totalWeight - r.no)) return;
    this.#roundFailed(now);
  }

  #onAccepted(
    from: string,
    msg: Extract<LeaseMessage, { type: 'accepted' }>,
    now: number,
    out: ProposerOutput,
  ): void {
    const r = this.#round;
    const w = this.#weights.get(from);
    if (!r || r.b !== msg.b || r.phase !== 'propose' || w === undefined || r.replied.has(from)) return;
    r.replied.add(from);
    r.yes += w;
    if (!this.#isMajority(r.yes)) return;
    this.#round = null;
    if (now >= r.t0 + this.#math.demoteAtMs) {
      // Too little left to run and then stop safely: the round failed (step 5).
      this.#roundFailed(now);
      return;
    }
    const validUntil = r.t0 + this.#math.validityMs;
    const demoteAt = r.t0 + this.#math.demoteAtMs;
    this.#renewAt = r.t0 + this.#timing.renewMs;
    if (r.kind === 'extend') {
      const own = this.#owner;
      if (!own || own.term !== r.term) {
        // Demoted while the extension was in flight: resources are stopped, so come back only
        // through a new acquisition with a new term.
        this.#retryAt = now;
        return;
      }
      own.b = r.b;
      own.validUntil = validUntil;
      own.demoteAt = demoteAt;
      out.events.push({ type: 'extended', term: own.term, validUntil });
      return;
    }
    if (this.#rank === null) {
      // Candidacy withdrawn during the round: hand the fresh lease straight back.
      out.send.push({
        to: BROADCAST,
        msg: { type: 'release', g: this.#group, owner: this.#node, term: r.term },
      });
      return;
    }
    this.#owner = { b: r.b, term: r.term, validUntil, demoteAt };
    this.#lastOwnerSeen = '';
    out.events.push({ type: 'acquired', term: r.term, validUntil });
  }

  #checkDemote(now: number, out: ProposerOutput): void {
    if (this.#owner && now >= this.#owner.demoteAt) this.#demote(now, 'lease not extended in time', out);
  }

  #demote(now: number, reason: string, out: ProposerOutput): void {
    if (!this.#owner) return;
    out.events.push({ type: 'demote', term: this.#owner.term, reason });
    this.#owner = null;
    this.#renewAt = Number.POSITIVE_INFINITY;
    this.#retryAt = this.#rank === null ? Number.POSITIVE_INFINITY : now + this.#backoff();
  }

  #roundFailed(now: number): void {
    this.#round = null;
    if (this.#owner) this.#renewAt = now + this.#random() * JITTER_MS;
    else if (this.#rank !== null) this.#retryAt = now + this.#backoff();
  }

  #noteOwner(owner: string, term: number, out: ProposerOutput): void {
    const key = `${owner}\u0000${term}`;
    if (key === this.#lastOwnerSeen) return;
    this.#lastOwnerSeen = key;
    out.events.push({ type: 'ownerSeen', owner, term });
  }

  #see(b: number): void {
    if (b > this.#lastSeen) this.#lastSeen = b;
  }

  #isMajority(weight: number): boolean {
    return weight * 2 > this.#totalWeight;
  }

  #backoff(): number {
    return (this.#rank ?? 0) * RANK_BACKOFF_MS + this.#random() * JITTER_MS;
  }
}
