import { GUARD_MS, RHO } from '../timing.js';
import { addToDigest, entryHash } from './lease-digest.js';
import type { LeaseMessage, Outgoing, ReportedLease } from './messages.js';
import { BATCH_GROUP, BROADCAST } from './messages.js';

/**
 * The PaxosLease acceptor of one voter (a node's agent or the witness), for any number of
 * groups. State lives in RAM only (a restart is covered by the quarantine M): per group the promised
 * ballot and at most one accepted lease, timed on this voter's monotonic clock.
 *
 * Pure: every method takes `now` (monotonic ms) and returns the messages to send; the shell
 * owns sockets and timers. Usage:
 *
 *   const acc = new LeaseAcceptor({ quarantineMs: leaseMath(timing).quarantineMs });
 *   acc.boot(now);                                  // once per process start
 *   send(acc.handle(from, msg, now));               // for prepare / propose / release
 *   at acc.nextWakeAt(): send(acc.tick(now));       // lazy expiry → EXPIRED pushes
 *
 * Rules:
 * - PREPARE(b): b ≥ promised → promise, reporting the unexpired accepted lease; else NACK.
 *   While another node's lease is live the promise is sent but not recorded (see handle).
 *   (b = promised only happens for a duplicate of the same proposer's prepare: ballots are
 *   unique per voter, so promising again is the same promise.)
 * - PROPOSE(b): b ≥ promised → accept with expiresAt = now + durMs; else NACK.
 * - RELEASE(owner, term): clears the lease only if both match; a stale or forged release for
 *   an older term does nothing. A duplicate of the released PROPOSE is refused afterwards.
 * - RENEW(owner, count, digest, d) (batched renewal): the live leases of `owner` here that a
 *   PROPOSE of their own ballot would still pass (b ≥ promised, not released) are extended to
 *   now + d if they are exactly the set the digest names; else nothing changes and the reply
 *   asks for the list. RENEW-LIST handles each entry as PROPOSE(b, owner, term, d), except
 *   that it also refuses while another node's lease is live here (a refusal is always safe).
 * - Expiry is lazy (checked on every message and on tick); each expiry or release pushes
 *   EXPIRED to every node so waiting proposers retry at once.
 * - Restart rule: after `boot(now)` it answers nothing until now + quarantineMs
 *   (M = Dmax(1+ρ) + guard), longer than any lease granted before the restart can last and
 *   longer than any round that collected a promise this voter has now forgotten.
 */

export interface AcceptorOptions {
  /** M from `leaseMath(timing).quarantineMs`. */
  quarantineMs: number;
  /**
   * Longest lease this acceptor grants. A PROPOSE asking for more is refused, because the
   * quarantine only covers leases up to this length. Default: the longest D that M covers.
   */
  maxLeaseMs?: number;
}

interface AcceptedLease {
  b: number;
  owner: string;
  term: number;
  expiresAt: number;
  /** {@link entryHash} of (group, b, term), kept for batched renewals. */
  hash: number;
}

interface GroupState {
  promised: number;
  accepted: AcceptedLease | null;
  /** Ballot of the last released lease: its duplicates must not resurrect it. */
  releasedB: number;
}

/** Read-only view of one group's acceptor state (status pages, tests). */
export interface AcceptorGroupView {
  promised: number;
  accepted: ReportedLease | null;
}

export class LeaseAcceptor {
  readonly #quarantineMs: number;
  readonly #maxLeaseMs: number;
  readonly #groups = new Map<string, GroupState>();
  /** Answers nothing before this monotonic time; never booted = silent. */
  #silentUntil = Number.POSITIVE_INFINITY;
  /** Bumped whenever a lease is accepted, released or expires (see `version`). */
  #version = 0;
  /** No accepted lease expires before this: a lower bound, lowered whenever an expiry is set. */
  #earliest = Number.POSITIVE_INFINITY;

  constructor(options: AcceptorOptions) {
    this.#quarantineMs = options.quarantineMs;
    // M = D(1+ρ) + guard (timing.ts), solved for D; the 1e-6 absorbs float rounding.
    this.#maxLeaseMs =
      options.maxLeaseMs ?? Math.max(0, (options.quarantineMs - GUARD_MS) / (1 + RHO) + 1e-6);
  }

  /** Process start (or an anomaly such as a detected pause): forget everything, go quiet for M. */
  boot(now: number): void {
    this.#version++;
    this.#groups.clear();
    this.#earliest = Number.POSITIVE_INFINITY;
    this.#silentUntil = now + this.#quarantineMs;
  }

  /**
   * Changes whenever which lease this acceptor holds for some group changes (accepted,
   * released, expired, forgotten), so a reader of `view` can skip work while it stays equal.
   */
  version(): number {
    return this.#version;
  }

  isQuarantined(now: number): boolean {
    return now < this.#silentUntil;
  }

  /** When the quarantine ends (monotonic ms); +Infinity before boot. */
  quarantineEndsAt(): number {
    return this.#silentUntil;
  }

  handle(from: string, msg: LeaseMessage, now: number): Outgoing[] {
    if (this.isQuarantined(now)) return [];
    const out: Outgoing[] = [];
    switch (msg.type) {
      case 'prepare': {
        const st = this.#state(msg.g, now, out);
        if (msg.b >= st.promised) {
          // A rival's PREPARE during another node's live lease is answered (the report makes
          // it back off) but not recorded: every proposer abandons a round on such a report,
          // so this promise can never be counted, and recording it would only make the
          // owner's next renewal lose a round to a NACK (under loss, often its lease).
          if (!st.accepted || st.accepted.owner === from) st.promised = msg.b;
          const reply: LeaseMessage = { type: 'promise', g: msg.g, b: msg.b };
          if (st.accepted) reply.accepted = report(st.accepted, now);
          out.push({ to: from, msg: reply });
        } else {
          out.push({ to: from, msg: { type: 'nack', g: msg.g, b: msg.b, promised: st.promised } });
        }
        break;
      }
      case 'propose': {
        const st = this.#state(msg.g, now, out);
        if (msg.b >= st.promised && msg.b > st.releasedB && msg.durMs <= this.#maxLeaseMs) {
          this.#accept(msg.g, st, msg.b, msg.owner, msg.term, now + msg.durMs);
          out.push({ to: from, msg: { type: 'accepted', g: msg.g, b: msg.b } });
        } else {
          out.push({ to: from, msg: { type: 'nack', g: msg.g, b: msg.b, promised: st.promised } });
        }
        break;
      }
      case 'release': {
        const st = this.#state(msg.g, now, out);
        const acc = st.accepted;
        if (acc && acc.owner === msg.owner && acc.term === msg.term) {
          st.releasedB = Math.max(st.releasedB, acc.b);
          st.accepted = null;
          this.#version++;
          out.push({ to: BROADCAST, msg: { type: 'expired', g: msg.g } });
        }
        break;
      }
      case 'renew':
        this.#renew(from, msg, now, out);
        break;
      case 'renew-list': {
        const refused: string[] = [];
        for (const [g, b, term] of msg.entries) {
          const st = this.#state(g, now, out);
          const rival = st.accepted !== null && st.accepted.owner !== msg.owner;
          if (b >= st.promised && b > st.releasedB && msg.durMs <= this.#maxLeaseMs && !rival)
            this.#accept(g, st, b, msg.owner, term, now + msg.durMs);
          else refused.push(g);
        }
        out.push({
          to: from,
          msg: { type: 'renewed-list', g: BATCH_GROUP, n: msg.n, part: msg.part, refused },
        });
        break;
      }
      default:
        // Replies and pushes are for proposers.
        break;
    }
    return out;
  }

  #renew(from: string, msg: Extract<LeaseMessage, { type: 'renew' }>, now: number, out: Outgoing[]): void {
    const renewable: AcceptedLease[] = [];
    let digest = 0;
    for (const [g, st] of this.#groups) {
      this.#expire(g, st, now, out);
      const acc = st.accepted;
      if (!acc || acc.owner !== msg.owner || acc.b < st.promised || acc.b <= st.releasedB) continue;
      renewable.push(acc);
      digest = addToDigest(digest, acc.hash);
    }
    const ok = renewable.length === msg.count && digest === msg.digest && msg.durMs <= this.#maxLeaseMs;
    if (ok) for (const acc of renewable) this.#setExpiry(acc, now + msg.durMs);
    out.push({ to: from, msg: { type: 'renewed', g: BATCH_GROUP, n: msg.n, ok } });
  }

  #accept(g: string, st: GroupState, b: number, owner: string, term: number, expiresAt: number): void {
    this.#version++;
    st.promised = b;
    const same = st.accepted && st.accepted.b === b && st.accepted.term === term;
    const hash = same ? st.accepted!.hash : entryHash(g, b, term);
    st.accepted = { b, owner, term, expiresAt, hash };
    this.#earliest = Math.min(this.#earliest, expiresAt);
  }

  #setExpiry(acc: AcceptedLease, expiresAt: number): void {
    acc.expiresAt = expiresAt;
    this.#earliest = Math.min(this.#earliest, expiresAt);
  }

  /** Expires leases whose time is up; returns the EXPIRED pushes. */
  tick(now: number): Outgoing[] {
    const out: Outgoing[] = [];
    if (this.isQuarantined(now) || now < this.#earliest) return out;
    // Something may be due: expire what is, and find the true earliest expiry again.
    let earliest = Number.POSITIVE_INFINITY;
    this.#groups.forEach((st, g) => {
      this.#expire(g, st, now, out);
      if (st.accepted && st.accepted.expiresAt < earliest) earliest = st.accepted.expiresAt;
    });
    this.#earliest = earliest;
    return out;
  }

  /** The next time `tick` may have something to do (monotonic ms; possibly early), or null. */
  nextWakeAt(): number | null {
    if (!Number.isFinite(this.#earliest)) return null;
    return Number.isFinite(this.#silentUntil) ? Math.max(this.#earliest, this.#silentUntil) : this.#earliest;
  }

  view(g: string, now: number): AcceptorGroupView {
    const st = this.#groups.get(g);
    if (!st) return { promised: 0, accepted: null };
    const live = st.accepted && st.accepted.expiresAt > now ? st.accepted : null;
    return { promised: st.promised, accepted: live ? report(live, now) : null };
  }

  groups(): string[] {
    return [...this.#groups.keys()];
  }

  #state(g: string, now: number, out: Outgoing[]): GroupState {
    let st = this.#groups.get(g);
    if (!st) {
      st = { promised: 0, accepted: null, releasedB: 0 };
      this.#groups.set(g, st);
    }
    this.#expire(g, st, now, out);
    return st;
  }

  #expire(g: string, st: GroupState, now: number, out: Outgoing[]): void {
    if (st.accepted && st.accepted.expiresAt <= now) {
      st.accepted = null;
      this.#version++;
      out.push({ to: BROADCAST, msg: { type: 'expired', g } });
    }
  }
}

function report(acc: AcceptedLease, now: number): ReportedLease {
  return { b: acc.b, owner: acc.owner, term: acc.term, remainingMs: acc.expiresAt - now };
}
