/**
 * The candidacy a group's proposer gets on this node: the engine's wish, except while no
 * deadman helper is ready (a node that cannot fence acquires nothing new), and except for a
 * group dropped for want of a helper until every acceptor has let that lease go (a fresh
 * proposer that saw its own old lease in the promises would take it for its own and run beside
 * the next owner). A lease held here keeps its candidacy: the deadman guard demotes it if no
 * helper comes back in time.
 */
export class CandidacyFilter {
  /** The engine's candidacy per group. */
  private readonly wanted = new Map<string, number | null>();
  /** Groups held back after a drop, with when this node may compete again. */
  private readonly notBefore = new Map<string, number>();

  want(group: string, rank: number | null): void {
    this.wanted.set(group, rank);
  }

  wantedRank(group: string): number | null {
    return this.wanted.get(group) ?? null;
  }

  wishes(): Array<[string, number | null]> {
    return [...this.wanted];
  }

  holdBack(group: string, until: number): void {
    this.notBefore.set(group, until);
  }

  effective(group: string, rank: number | null, o: { now: number; canAcquire: boolean; held: boolean }) {
    const waiting = (this.notBefore.get(group) ?? 0) > o.now;
    return rank !== null && (!o.canAcquire || waiting) && !o.held ? null : rank;
  }

  /** Groups whose hold-back is over at `now`; they are forgotten from then on. */
  dueAt(now: number): string[] {
    const due = [...this.notBefore].filter(([, at]) => at <= now).map(([group]) => group);
    for (const group of due) this.notBefore.delete(group);
    return due;
  }

  nextWakeAt(): number {
    return Math.min(Number.POSITIVE_INFINITY, ...this.notBefore.values());
  }
}
