/**
 * Paces the acquisition rounds a node starts, so that a thousand free groups (a cold start, or
 * the survivor of a crash taking over everything) are won a slice at a time instead of all at
 * once. A burst of N simultaneous PaxosLease rounds queues N × 4 messages at every voter; with
 * N = 1,000 and `fast` timing the rounds finished so late that the new leases reached their
 * demote point before their first renewal, and the node lost them by the hundred.
 *
 * A token bucket: `ratePerSecond` tokens a second, at most one renewal interval's worth saved
 * up. An attempt of rank r costs r + 1 tokens, so a less preferred node walks through the
 * free groups at half the pace (or less) of the preferred one; both walk in the same order
 * (rank, then the config's order), so the preferred node stays ahead on every group it has
 * not reached yet instead of losing it to the other node's rank back-off, which is all a
 * plain cap did. An attempt that finds another node's live lease in its own acceptor costs
 * its tokens too: that is what keeps the walks in step.
 *
 * Pure: time comes in as an argument.
 */
export interface AcquisitionPacerOptions {
  /** Rank-0 attempts per second, sustained. */
  ratePerSecond: number;
  /** The bucket holds this long's worth of tokens (the renewal interval R). */
  burstMs: number;
}

/** Rank-0 acquisition rounds a node starts per second, at most (see docs/benchmarks.md). */
export const ACQUISITIONS_PER_SECOND = 1000;

/** Refills are fractional: `readyAt` must not be a hair too early for `take`. */
const EPSILON = 1e-9;

export class AcquisitionPacer {
  readonly #perMs: number;
  readonly #capacity: number;
  #tokens: number;
  #at = Number.NEGATIVE_INFINITY;

  constructor(options: AcquisitionPacerOptions) {
    this.#perMs = options.ratePerSecond / 1000;
    this.#capacity = Math.max(1, Math.floor(this.#perMs * options.burstMs));
    this.#tokens = this.#capacity;
  }

  /** Tokens an attempt of this rank takes (never more than the bucket holds). */
  cost(rank: number): number {
    return Math.min(this.#capacity, Math.max(0, rank) + 1);
  }

  /** Takes the tokens of one attempt of `rank` if there are enough; false (nothing taken) if not. */
  take(rank: number, now: number): boolean {
    this.#refill(now);
    const cost = this.cost(rank);
    if (this.#tokens + EPSILON < cost) return false;
    this.#tokens -= cost;
    return true;
  }

  /** When an attempt of `rank` can next be taken (now, if it can be now). */
  readyAt(rank: number, now: number): number {
    this.#refill(now);
    const missing = this.cost(rank) - this.#tokens;
    return missing <= EPSILON ? now : now + missing / this.#perMs;
  }

  #refill(now: number): void {
    if (now > this.#at) {
      const gained = this.#at === Number.NEGATIVE_INFINITY ? this.#capacity : (now - this.#at) * this.#perMs;
      this.#tokens = Math.min(this.#capacity, this.#tokens + gained);
      this.#at = now;
    }
  }
}
