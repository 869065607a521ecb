import { findOverlaps, type OwnershipWindow } from '../sim/overlaps.js';

/**
 * The safety check of the etcd tests, as a pure function of what the nodes reported: each
 * node's ownership events in the order they happened (times on one monotonic clock, the
 * coordinators run in one process). Problems: two nodes owning at once, a node acquiring
 * while it still owns, and a term that does not increase from one acquisition to the next.
 */

export interface OwnershipRecord {
  node: string;
  type: 'acquired' | 'demote' | 'release';
  /** A decimal term (etcd revisions can exceed 2^53, so a string). */
  term: string;
  at: number;
}

/** Ownership windows: from `acquired` to the next `demote`/`release` of the same node. */
export function ownershipWindows(records: readonly OwnershipRecord[]): OwnershipWindow[] {
  const out: OwnershipWindow[] = [];
  const open = new Map<string, { term: string; start: number }>();
  for (const r of records) {
    const o = open.get(r.node);
    if (r.type === 'acquired') {
      if (o) out.push({ node: r.node, term: o.term, start: o.start, end: r.at });
      open.set(r.node, { term: r.term, start: r.at });
    } else if (o) {
      out.push({ node: r.node, term: o.term, start: o.start, end: r.at });
      open.delete(r.node);
    }
  }
  for (const [node, o] of open)
    out.push({ node, term: o.term, start: o.start, end: Number.POSITIVE_INFINITY });
  return out;
}

/** Everything unsafe in `records`; [] when they are safe. */
export function ownershipProblems(records: readonly OwnershipRecord[]): string[] {
  const problems: string[] = [];
  const owning = new Set<string>();
  let last: { node: string; term: bigint } | null = null;
  for (const r of records) {
    if (r.type !== 'acquired') {
      owning.delete(r.node);
      continue;
    }
    if (owning.has(r.node))
      problems.push(`${r.node} acquired term ${r.term} without a demote or release before`);
    owning.add(r.node);
    const term = BigInt(r.term);
    if (last && term <= last.term)
      problems.push(
        `${r.node} acquired term ${r.term}, not above the earlier term ${last.term} of ${last.node}`,
      );
    last = { node: r.node, term };
  }
  return [...problems, ...findOverlaps(ownershipWindows(records))];
}

/**
 * A killed owner's hand-over as the agents' files show it: the old owner's resources were
 * stopped (by its deadman helper) no later than the standby's grant, and the standby's term
 * is above the old one. Times are wall-clock ms (two processes); terms decimal strings.
 */
export function handoverProblems(h: {
  stoppedAtMs: number;
  grantedAtMs: number;
  oldTerm: string;
  newTerm: string;
}): string[] {
  const problems: string[] = [];
  if (!(h.stoppedAtMs <= h.grantedAtMs))
    problems.push(
      `the old owner stopped at ${h.stoppedAtMs}, after the standby was granted at ${h.grantedAtMs}`,
    );
  if (!(BigInt(h.newTerm) > BigInt(h.oldTerm)))
    problems.push(`the standby's term ${h.newTerm} is not above the old owner's term ${h.oldTerm}`);
  return problems;
}
