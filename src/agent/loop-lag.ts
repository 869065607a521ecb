/**
 * The agent's event-loop lag as the stall monitor reads it: the lateness of a timer that is
 * meant to fire every `everyMs`, worst over the last window to two windows.
 *
 * Why not perf_hooks' monitorEventLoopDelay: its histogram samples with a timer of its own,
 * every 20 ms here, and those 50 wake-ups a second were most of an idle agent's main-thread
 * CPU. A stall long enough to matter (the stall monitor's limit is 1 s by default) overlaps
 * this timer's due time and shows, whole, as its lateness; a shorter one shows as at least
 * its length minus `everyMs`.
 *
 * Pure: times come in as arguments (monotonic ms).
 */
export class LoopLag {
  readonly #everyMs: number;
  readonly #windowMs: number;
  #expected: number | null = null;
  #windowStart: number | null = null;
  #worst = 0;
  #previousWorst = 0;

  constructor(opts: { everyMs: number; windowMs: number }) {
    this.#everyMs = opts.everyMs;
    this.#windowMs = opts.windowMs;
  }

  /** The timer fired at `now`; it fires again `everyMs` later. */
  sample(now: number): void {
    if (this.#windowStart === null) this.#windowStart = now;
    if (this.#expected !== null) this.#worst = Math.max(this.#worst, now - this.#expected);
    this.#expected = now + this.#everyMs;
    if (now - this.#windowStart >= this.#windowMs) {
      this.#previousWorst = this.#worst;
      this.#worst = 0;
      this.#windowStart = now;
    }
  }

  /**
   * Worst lateness (ms) of this window and the last; at `now`, a timer that has not fired yet
   * counts as late by as long as it has been overdue (a loop stuck right now shows at once).
   */
  maxMs(now: number): number {
    const overdue = this.#expected === null ? 0 : Math.max(0, now - this.#expected);
    return Math.max(this.#worst, this.#previousWorst, overdue);
  }
}
