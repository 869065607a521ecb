/**
 * Which owner this node shows for a group (status and UI only; safety never reads it).
 * A lease held here and still valid wins; else what this node's acceptor accepted; else
 * "nobody", but only when this node can know: while its acceptor is in restart quarantine it
 * has forgotten what it accepted, so the last owner shown stays (unless that was this node,
 * which knows it holds nothing).
 */
export interface OwnerFacts {
  self: string;
  now: number;
  held: { term: number; validUntil: number } | undefined;
  accepted: { owner: string; term: number } | null;
  /** The owner shown now. */
  shown: string | null;
  quarantined: boolean;
}

/** The owner to show, or undefined to keep the one shown. */
export function ownerToShow(f: OwnerFacts): { owner: string | null; term: number | null } | undefined {
  if (f.held && f.held.validUntil > f.now) return { owner: f.self, term: f.held.term };
  if (f.accepted) return { owner: f.accepted.owner, term: f.accepted.term };
  if (f.shown === f.self || !f.quarantined) return { owner: null, term: null };
  return undefined;
}
