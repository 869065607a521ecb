import type { Cancel, Timers } from '../../src/engine/timers.js';

/** Manual time for engine tests: nothing fires until `advance()`; no real sleeping. */
export class FakeTimers implements Timers {
  private mono = 0;
  private readonly wallStart = Date.UTC(2026, 10, 21, 12, 0, 0);
  private seq = 0;
  private queue: Array<{ at: number; seq: number; fn: () => void }> = [];

  now(): number {
    return this.mono;
  }

  wallNow(): number {
    return this.wallStart + this.mono;
  }

  setTimeout(fn: () => void, ms: number): Cancel {
    const entry = { at: this.mono + Math.max(0, ms), seq: this.seq++, fn };
    this.queue.push(entry);
    return () => {
      this.queue = this.queue.filter((e) => e !== entry);
    };
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Moves time forward, firing due timers in order and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const target = this.mono + ms;
    await settle();
    for (;;) {
      const next = this.queue.filter((e) => e.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.queue = this.queue.filter((e) => e !== next);
      this.mono = next.at;
      next.fn();
      await settle();
    }
    this.mono = target;
    await settle();
  }
}

/** Lets every pending promise chain run (a few macrotask turns, no timers). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
