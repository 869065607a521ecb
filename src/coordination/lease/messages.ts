/**
 * PaxosLease messages for one failover group `g`.
 *
 * Requests (proposer → acceptor): prepare, propose, release.
 * Replies and pushes (acceptor → proposer): promise, nack, accepted, expired.
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
  | { type: 'expired'; g: string };

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
  return msg.type === 'prepare' || msg.type === 'propose' || msg.type === 'release';
}

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
    default:
      return null;
  }
}
