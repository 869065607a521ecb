/**
 * PaxosLease messages for one failover group `g`, and the batched renewal of every lease one
 * owner holds (`g` = {@link BATCH_GROUP}; see batch-renewer.ts).
 *
 * Requests (proposer → acceptor): prepare, propose, release, renew, renew-list.
 * Replies and pushes (acceptor → proposer): promise, nack, accepted, expired, renewed,
 * renewed-list.
 *
 * The transport adds the authenticated header ({cluster, configEpoch, from, bootId, seq});
 * these bodies carry only what the protocol needs. Every number is a JSON-safe integer or a
 * millisecond duration, so a message survives JSON.stringify/parse unchanged.
 */

/** A lease an acceptor still holds, as reported in a PROMISE. */
export interface ReportedLease {
  /** Ballot under which the acceptor accepted it. */
  b: number;
  owner: string;
  term: number;
  /** Time left on the acceptor's own clock when it replied (> 0). */
  remainingMs: number;
}

export type LeaseMessage =
  | { type: 'prepare'; g: string; b: number }
  | { type: 'promise'; g: string; b: number; accepted?: ReportedLease }
  /** Refusal of a prepare or propose with ballot `b`; `promised` is the acceptor's ballot. */
  | { type: 'nack'; g: string; b: number; promised: number }
  | { type: 'propose'; g: string; b: number; owner: string; term: number; durMs: number }
  | { type: 'accepted'; g: string; b: number }
  /** Planned hand-over: clear the lease if it still belongs to `owner` under `term`. */
  | { type: 'release'; g: string; owner: string; term: number }
  /** Push: the acceptor's lease for `g` ran out or was released (latency only, not safety). */
  | { type: 'expired'; g: string }
  /**
   * Batched renewal, round `n`: extend by `durMs` every lease `owner` holds here, if they are
   * exactly the `count` leases whose {@link entryHash}es sum to `digest` and each would still
   * be accepted as a PROPOSE of its own ballot. Constant size whatever the number of groups.
   */
  | {
      type: 'renew';
      g: typeof BATCH_GROUP;
      n: number;
      owner: string;
      count: number;
      digest: number;
      durMs: number;
    }
  /**
   * The same with the leases spelled out (one PROPOSE each), after a `renewed` with ok = false;
   * split into parts of at most {@link MAX_RENEWAL_ENTRIES} so each fits a datagram.
   */
  | {
      type: 'renew-list';
      g: typeof BATCH_GROUP;
      n: number;
      part: number;
      owner: string;
      entries: RenewalEntry[];
      durMs: number;
    }
  /** Reply to `renew`: ok = every lease extended; false = the sets differ, send the list. */
  | { type: 'renewed'; g: typeof BATCH_GROUP; n: number; ok: boolean }
  /** Reply to one part of a `renew-list`: its leases were extended (installed) except `refused`. */
  | { type: 'renewed-list'; g: typeof BATCH_GROUP; n: number; part: number; refused: string[] };

/** The `g` of the batched renewal messages (never a group name: names are DNS labels). */
export const BATCH_GROUP = '*';

/** One lease in a batched renewal: group, the ballot it was last accepted under, its term. */
export type RenewalEntry = [g: string, b: number, term: number];

export type LeaseMessageType = LeaseMessage['type'];

/** `to` value meaning "every voter" (from a proposer) or "every node" (from an acceptor). */
export const BROADCAST = '*';

/** One message to send: `to` is a voter/node name or BROADCAST. */
export interface Outgoing {
  to: string;
  msg: LeaseMessage;
}

/** Messages handled by an acceptor; the rest go to the proposer of group `g`. */
export function isAcceptorMessage(msg: LeaseMessage): boolean {
  return (
    msg.type === 'prepare' ||
    msg.type === 'propose' ||
    msg.type === 'release' ||
    msg.type === 'renew' ||
    msg.type === 'renew-list'
  );
}

/**
 * Most leases one renew-list part carries: with 63-character names and 16-digit ballots an
 * entry is ~100 bytes of JSON, so a part stays under the transport's 60 kB frame.
 */
export const MAX_RENEWAL_ENTRIES = 400;

const isEntry = (v: unknown): v is RenewalEntry =>
  Array.isArray(v) && v.length === 3 && isName(v[0]) && isBallot(v[1]) && isBallot(v[2]);

const isBallot = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isMs = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256;

function isReportedLease(v: unknown): v is ReportedLease {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return isBallot(r.b) && isName(r.owner) && isBallot(r.term) && isMs(r.remainingMs);
}

/**
 * Checks a decoded (already authenticated) body from the wire. Returns the message or null;
 * a peer running a different version must not crash the core with a malformed body.
 */
export function parseLeaseMessage(value: unknown): LeaseMessage | null {
  if (typeof value !== 'object' || value === null) return null;
  const m = value as Record<string, unknown>;
  if (!isName(m.g)) return null;
  const g = m.g;
  switch (m.type) {
    case 'prepare':
    case 'accepted':
      return isBallot(m.b) ? { type: m.type, g, b: m.b } : null;
    case 'promise':
      if (!isBallot(m.b)) return null;
      if (m.accepted === undefined) return { type: 'promise', g, b: m.b };
      return isReportedLease(m.accepted) ? { type: 'promise', g, b: m.b, accepted: { ...m.accepted } } : null;
    case 'nack':
      return isBallot(m.b) && isBallot(m.promised) ? { type: 'nack', g, b: m.b, promised: m.promised } : null;
    case 'propose':
      return isBallot(m.b) && isName(m.owner) && isBallot(m.term) && isMs(m.durMs)
        ? { type: 'propose', g, b: m.b, owner: m.owner, term: m.term, durMs: m.durMs }
        : null;
    case 'release':
      return isName(m.owner) && isBallot(m.term)
        ? { type: 'release', g, owner: m.owner, term: m.term }
        : null;
    case 'expired':
      return { type: 'expired', g };
    case 'renew':
      return g === BATCH_GROUP &&
        isBallot(m.n) &&
        isName(m.owner) &&
        isBallot(m.count) &&
        isBallot(m.digest) &&
        isMs(m.durMs)
        ? { type: 'renew', g, n: m.n, owner: m.owner, count: m.count, digest: m.digest, durMs: m.durMs }
        : null;
    case 'renew-list':
      return g === BATCH_GROUP &&
        isBallot(m.n) &&
        isBallot(m.part) &&
        isName(m.owner) &&
        isMs(m.durMs) &&
        Array.isArray(m.entries) &&
        m.entries.length <= MAX_RENEWAL_ENTRIES &&
        m.entries.every(isEntry)
        ? {
            type: 'renew-list',
            g,
            n: m.n,
            part: m.part,
            owner: m.owner,
            entries: (m.entries as RenewalEntry[]).map((e) => [e[0], e[1], e[2]]),
            durMs: m.durMs,
          }
        : null;
    case 'renewed':
      return g === BATCH_GROUP && isBallot(m.n) && typeof m.ok === 'boolean'
        ? { type: 'renewed', g, n: m.n, ok: m.ok }
        : null;
    case 'renewed-list':
      return g === BATCH_GROUP &&
        isBallot(m.n) &&
        isBallot(m.part) &&
        Array.isArray(m.refused) &&
        m.refused.length <= MAX_RENEWAL_ENTRIES &&
        m.refused.every(isName)
        ? { type: 'renewed-list', g, n: m.n, part: m.part, refused: [...(m.refused as string[])] }
        : null;
    default:
      return null;
  }
}
