import type { Prng } from './prng.js';

/**
 * The simulated network between named endpoints: per directed link it decides whether a
 * message is lost, how often it arrives (duplication) and after which delay (random delays
 * reorder messages). Partitions may be asymmetric: blocking a→b leaves b→a working.
 * Messages a node sends to itself never touch the network.
 */

export interface LinkConditions {
  /** Probability a copy is lost. */
  loss: number;
  /** Probability of one extra copy. */
  dup: number;
  delayMinMs: number;
  delayMaxMs: number;
  /** Probability that a copy is held up to spikeMaxMs instead (late replies, old ballots). */
  spike: number;
  spikeMaxMs: number;
}

export const CALM: Readonly<LinkConditions> = Object.freeze({
  loss: 0,
  dup: 0,
  delayMinMs: 0.1,
  delayMaxMs: 2,
  spike: 0,
  spikeMaxMs: 0,
});

const SELF_DELAY_MS = 0.01;

export class FakeNetwork {
  readonly #rng: Prng;
  #base: LinkConditions = { ...CALM };
  readonly #links = new Map<string, LinkConditions>();
  readonly #blocked = new Set<string>();
  /** Latest arrival time of any copy scheduled so far (for "quiet after heal"). */
  lastArrival = 0;

  constructor(rng: Prng) {
    this.#rng = rng;
  }

  setBase(c: LinkConditions): void {
    this.#base = { ...c };
  }

  /** Conditions for one directed link (overrides the base); null restores the base. */
  setLink(from: string, to: string, c: LinkConditions | null): void {
    if (c) this.#links.set(key(from, to), { ...c });
    else this.#links.delete(key(from, to));
  }

  block(from: string, to: string): void {
    this.#blocked.add(key(from, to));
  }

  clearBlocks(): void {
    this.#blocked.clear();
  }

  /** Everything back to CALM, no blocks. */
  heal(): void {
    this.#base = { ...CALM };
    this.#links.clear();
    this.#blocked.clear();
  }

  isBlocked(from: string, to: string): boolean {
    return this.#blocked.has(key(from, to));
  }

  /** Arrival delays (ms) of the copies of one message sent at `now`; empty if lost. */
  transmit(from: string, to: string, now: number): number[] {
    if (from === to) return [SELF_DELAY_MS];
    if (this.#blocked.has(key(from, to))) return [];
    const c = this.#links.get(key(from, to)) ?? this.#base;
    const copies = c.dup > 0 && this.#rng.chance(c.dup) ? 2 : 1;
    const delays: number[] = [];
    for (let i = 0; i < copies; i++) {
      if (c.loss > 0 && this.#rng.chance(c.loss)) continue;
      const spiked = c.spike > 0 && this.#rng.chance(c.spike);
      const d = spiked
        ? this.#rng.range(c.delayMaxMs, c.spikeMaxMs)
        : this.#rng.range(c.delayMinMs, c.delayMaxMs);
      delays.push(d);
      if (now + d > this.lastArrival) this.lastArrival = now + d;
    }
    return delays;
  }
}

function key(from: string, to: string): string {
  return `${from}>${to}`;
}
