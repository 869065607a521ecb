import { termToString } from '../lease/ballot.js';
import type { GroupLeaseView } from '../types.js';

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

export interface HeldLease {
  term: number;
  validUntil: number;
}

/** What the owner shown per group is read from and written to (the shared shell). */
export interface OwnerBoard {
  owner(group: string): { owner: string | null; term: string | null };
  setOwner(group: string, owner: string | null, term: string | null): void;
}

/** The parts of this node's acceptor the shown owner depends on. */
export interface AcceptorFacts {
  view(group: string, now: number): { accepted: { owner: string; term: number } | null };
  isQuarantined(now: number): boolean;
}

/** Applies {@link ownerToShow} to every group (status only). */
export function showOwners(o: {
  groups: readonly string[];
  self: string;
  now: number;
  held: ReadonlyMap<string, HeldLease>;
  acceptor: AcceptorFacts;
  board: OwnerBoard;
}): void {
  for (const group of o.groups) {
    const show = ownerToShow({
      self: o.self,
      now: o.now,
      held: o.held.get(group),
      accepted: o.acceptor.view(group, o.now).accepted,
      shown: o.board.owner(group).owner,
      quarantined: o.acceptor.isQuarantined(o.now),
    });
    if (show) o.board.setOwner(group, show.owner, show.term === null ? null : termToString(show.term));
  }
}

/** The lease part of the coordinator's view: owner shown, and time left on leases held here. */
export function leaseViews(
  groups: readonly string[],
  held: ReadonlyMap<string, HeldLease>,
  board: OwnerBoard,
  now: number,
): GroupLeaseView[] {
  return groups.map((group) => {
    const h = held.get(group);
    return {
      group,
      ...board.owner(group),
      validForMs: h ? Math.max(0, Math.round(h.validUntil - now)) : null,
    };
  });
}
