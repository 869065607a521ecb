import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { run } from './exec.js';

/**
 * The split-brain observer: who holds the VIP, on every node, and every moment two nodes
 * hold it at once (the one outcome the cluster must never produce).
 *
 * Each node namespace gets a persistent `ip -n NS -o monitor address` on top of one initial
 * dump. The holder set is judged at two kinds of moment:
 * - on every address event the kernel reports, so an overlap of a few milliseconds (an
 *   address added on one node just before it was removed from the other) is recorded with
 *   the time the event arrived, however short it was;
 * - on a periodic tick (10 ms by default), which keeps recording an overlap that lasts and
 *   notices a node being powered off or on, which no address event reports.
 * A node that is "powered off" (`setPowered(node, false)`) does not count as a holder: its
 * stale address is on a machine that serves nothing.
 */

const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export interface HolderChange {
  /** Monotonic ms. */
  t: number;
  holders: string[];
  /** What made the checker look: a kernel address event or the periodic tick. */
  via?: 'event' | 'tick';
}

export interface SplitBrainReport {
  /** Periodic samples taken. */
  samples: number;
  /** Address events seen (for the VIP or any other address). */
  events: number;
  /** Every event or sample that left two or more powered holders (must be empty). */
  violations: HolderChange[];
  /** The holder set each time it changed, in order. */
  changes: HolderChange[];
}

interface Watched {
  node: string;
  ns: string;
  addrs: Set<string>;
  powered: boolean;
  monitor: ChildProcess | null;
}

const LINE = /^(Deleted\s+)?\d+:\s+\S+\s+inet6?\s+([0-9a-fA-F.:]+)\/\d+/;

export class SplitBrainChecker {
  private readonly watched: Watched[];
  private timer: NodeJS.Timeout | null = null;
  private samples = 0;
  private events = 0;
  private readonly violations: HolderChange[] = [];
  private readonly changes: HolderChange[] = [];
  private lastKey = '';

  constructor(
    nodes: ReadonlyArray<{ name: string; ns: string }>,
    private readonly vip: string,
    private readonly intervalMs = 10,
    /** Told the pid of every observer process it starts inside a node namespace. */
    private readonly onSpawn: (pid: number) => void = () => {},
  ) {
    this.watched = nodes.map((n) => ({
      node: n.name,
      ns: n.ns,
      addrs: new Set(),
      powered: true,
      monitor: null,
    }));
  }

  async start(): Promise<void> {
    for (const w of this.watched) {
      const monitor = spawn('ip', ['-n', w.ns, '-o', 'monitor', 'address'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      w.monitor = monitor;
      if (monitor.pid !== undefined) this.onSpawn(monitor.pid);
      createInterface({ input: monitor.stdout! }).on('line', (line) => this.onLine(w, line));
    }
    // Monitors first, then the dump: an event racing the dump is applied again, idempotently.
    await new Promise((r) => setTimeout(r, 50));
    for (const w of this.watched) {
      const r = await run(['ip', '-n', w.ns, '-j', 'addr', 'show'], { allowFail: true });
      try {
        for (const link of JSON.parse(r.stdout) as Array<{ addr_info?: Array<{ local?: string }> }>)
          for (const a of link.addr_info ?? []) if (a.local) w.addrs.add(a.local);
      } catch {
        // An empty namespace prints nothing parseable.
      }
    }
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  /** One kernel address event: applied, then judged at once (not at the next tick). */
  private onLine(w: Watched, line: string): void {
    const m = LINE.exec(line);
    if (!m) return;
    if (m[1]) w.addrs.delete(m[2]!);
    else w.addrs.add(m[2]!);
    this.events++;
    this.record('event');
  }

  holders(): string[] {
    return this.watched.filter((w) => w.powered && w.addrs.has(this.vip)).map((w) => w.node);
  }

  /** Marks a node powered off (its addresses stop counting) or on again. */
  setPowered(node: string, powered: boolean): void {
    const w = this.watched.find((x) => x.node === node);
    if (w) w.powered = powered;
    this.sample();
  }

  private sample(): void {
    this.samples++;
    this.record('tick');
  }

  /** Judges the current holder set: a violation if two or more, a change if it differs. */
  private record(via: 'event' | 'tick'): void {
    const holders = this.holders();
    const t = monoMs();
    if (holders.length > 1) this.violations.push({ t, holders, via });
    const key = holders.join(',');
    if (key !== this.lastKey || this.changes.length === 0) {
      this.lastKey = key;
      this.changes.push({ t, holders, via });
    }
  }

  /** The latest holder set and when it began. */
  lastChange(): HolderChange | undefined {
    return this.changes.at(-1);
  }

  /** When `node` became the (sole) holder at or after `since`, or null. */
  firstHeldBy(node: string, since: number): number | null {
    return this.changes.find((c) => c.t >= since && c.holders.includes(node))?.t ?? null;
  }

  report(): SplitBrainReport {
    return {
      samples: this.samples,
      events: this.events,
      violations: [...this.violations],
      changes: [...this.changes],
    };
  }

  async stop(): Promise<SplitBrainReport> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const w of this.watched) {
      const m = w.monitor;
      w.monitor = null;
      if (m && m.exitCode === null && m.signalCode === null) {
        const gone = new Promise((r) => m.once('exit', r));
        m.kill('SIGKILL');
        await gone;
      }
    }
    return this.report();
  }
}
