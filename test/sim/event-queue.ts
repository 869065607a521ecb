/**
 * Discrete-event queue for the simulator: a binary min-heap on (time, insertion order), so
 * events at the same instant run in the order they were scheduled (determinism).
 */
interface Entry {
  t: number;
  seq: number;
  run: () => void;
}

export class EventQueue {
  #heap: Entry[] = [];
  #seq = 0;

  get size(): number {
    return this.#heap.length;
  }

  push(t: number, run: () => void): void {
    const h = this.#heap;
    h.push({ t, seq: this.#seq++, run });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i] as Entry, h[p] as Entry)) break;
      [h[i], h[p]] = [h[p] as Entry, h[i] as Entry];
      i = p;
    }
  }

  peekTime(): number | null {
    return this.#heap[0]?.t ?? null;
  }

  pop(): Entry | null {
    const h = this.#heap;
    const top = h[0];
    if (!top) return null;
    const last = h.pop() as Entry;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l] as Entry, h[m] as Entry)) m = l;
        if (r < h.length && less(h[r] as Entry, h[m] as Entry)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as Entry, h[i] as Entry];
        i = m;
      }
    }
    return top;
  }
}

function less(a: Entry, b: Entry): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}
