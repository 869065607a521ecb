/**
 * Replay protection for authenticated frames: per (sender, bootId) a sliding
 * window over sequence numbers, as in IPsec's anti-replay window (RFC 4303 §3.4.3). Each
 * sequence number is accepted once; numbers older than the window are rejected. Frames may
 * arrive out of order (several links, UDP reordering) as long as they are inside the window.
 *
 * A sender that restarts gets a new random bootId and starts again at seq 1, so an unknown
 * bootId is accepted. Memory stays bounded: each sender keeps its most recently used bootIds
 * (a restarted process's old bootId falls out), and the number of senders is capped.
 *
 * Known limit: a frame recorded from a bootId that has been evicted would be accepted again.
 * That takes more than `maxBootIdsPerSender` restarts of that sender, and the lease protocol
 * ignores stale ballots and terms anyway.
 */

export interface ReplayGuardOptions {
  /** Width of the window in sequence numbers (multiple of 32). Default 1024. */
  windowSize?: number;
  /** Boot ids remembered per sender. Default 4. */
  maxBootIdsPerSender?: number;
  /** Senders remembered at all (least recently heard evicted first). Default 4096. */
  maxSenders?: number;
}

class SeqWindow {
  private readonly bits: Uint32Array;
  private max = -1;

  constructor(private readonly size: number) {
    this.bits = new Uint32Array(size / 32);
  }

  accept(seq: number): boolean {
    if (seq > this.max) {
      const advance = seq - this.max;
      if (advance >= this.size) {
        this.bits.fill(0);
      } else {
        for (let s = this.max + 1; s <= seq; s++) this.clear(s);
      }
      this.max = seq;
      this.set(seq);
      return true;
    }
    if (this.max - seq >= this.size) return false;
    if (this.isSet(seq)) return false;
    this.set(seq);
    return true;
  }

  private slot(seq: number): [number, number] {
    const i = seq % this.size;
    return [i >>> 5, 1 << (i & 31)];
  }

  private set(seq: number): void {
    const [word, mask] = this.slot(seq);
    this.bits[word] = (this.bits[word] ?? 0) | mask;
  }

  private clear(seq: number): void {
    const [word, mask] = this.slot(seq);
    this.bits[word] = (this.bits[word] ?? 0) & ~mask;
  }

  private isSet(seq: number): boolean {
    const [word, mask] = this.slot(seq);
    return ((this.bits[word] ?? 0) & mask) !== 0;
  }
}

export class ReplayGuard {
  private readonly windowSize: number;
  private readonly maxBootIds: number;
  private readonly maxSenders: number;
  /** Map iteration order doubles as LRU order: re-inserted on every use. */
  private readonly senders = new Map<string, Map<string, SeqWindow>>();

  constructor(options: ReplayGuardOptions = {}) {
    this.windowSize = Math.max(32, Math.ceil((options.windowSize ?? 1024) / 32) * 32);
    this.maxBootIds = Math.max(1, options.maxBootIdsPerSender ?? 4);
    this.maxSenders = Math.max(1, options.maxSenders ?? 4096);
  }

  /** True the first time (sender, bootId, seq) is seen inside the window; records it. */
  accept(sender: string, bootId: string, seq: number): boolean {
    if (!Number.isSafeInteger(seq) || seq < 0) return false;
    let boots = this.senders.get(sender);
    if (boots === undefined) {
      boots = new Map();
      if (this.senders.size >= this.maxSenders) this.evictOldest(this.senders);
    } else {
      this.senders.delete(sender);
    }
    this.senders.set(sender, boots);

    let window = boots.get(bootId);
    if (window === undefined) {
      window = new SeqWindow(this.windowSize);
      if (boots.size >= this.maxBootIds) this.evictOldest(boots);
    } else {
      boots.delete(bootId);
    }
    boots.set(bootId, window);
    return window.accept(seq);
  }

  /** Number of (sender, bootId) windows held; for tests and metrics. */
  size(): number {
    let n = 0;
    for (const boots of this.senders.values()) n += boots.size;
    return n;
  }

  private evictOldest<V>(map: Map<string, V>): void {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
}
