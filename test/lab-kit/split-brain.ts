import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { LabError, run } from './exec.js';

/**
 * The split-brain observer: who holds the VIP, on every node, and every moment two nodes
 * hold it at once (the one outcome the cluster must never produce).
 *
 * One persistent `ip -o monitor address all-nsid`, run in a namespace of its own (the lab's
 * switch), hears the address events of every node namespace, in the kernel's order, on top of one initial dump per
 * namespace. The holder set is judged at two kinds of moment:
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
}

/** `[nsid N]` then the usual one-line address event, `Deleted ` first for a removal. */
const LINE = /^\[nsid (\d+)\](Deleted\s+)?\d+:\s+\S+\s+inet6?\s+([0-9a-fA-F.:]+)\/\d+/;

export interface CheckerOptions {
  /**
   * The namespace the observer runs in (the lab's switch): not a node, so no fault touches
   * it, and inside the lab, so the lab's teardown (or the sweep after a killed run) ends it.
   */
  observerNs: string;
  /** Period of the samples (default 10 ms). */
  intervalMs?: number;
  /** Told the pid of the observer process it starts (faults must leave it alone). */
  onSpawn?: (pid: number) => void;
}

export class SplitBrainChecker {
  private readonly watched: Watched[];
  private readonly byNsid = new Map<number, Watched>();
  private monitor: ChildProcess | null = null;
  private timer: NodeJS.Timeout | null = null;
  private samples = 0;
  private events = 0;
  private readonly violations: HolderChange[] = [];
  private readonly changes: HolderChange[] = [];
  private lastKey = '';

  constructor(
    nodes: ReadonlyArray<{ name: string; ns: string }>,
    private readonly vip: string,
    private readonly opts: CheckerOptions,
  ) {
    this.watched = nodes.map((n) => ({ node: n.name, ns: n.ns, addrs: new Set(), powered: true }));
  }

  async start(): Promise<void> {
    // One monitor for every node namespace, not one per namespace: the kernel sends address
    // changes under one global lock (RTNL) and queues them on this single socket in the order
    // they happened. Separate monitors, read separately, can deliver "added on n2" before
    // "removed from n1" under load and show an overlap that never existed.
    const at = this.opts.observerNs;
    for (const w of this.watched) this.byNsid.set(await nsid(at, w.ns), w);
    const monitor = spawn('ip', ['-n', at, '-o', 'monitor', 'address', 'all-nsid'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    this.monitor = monitor;
    if (monitor.pid !== undefined) this.opts.onSpawn?.(monitor.pid);
    createInterface({ input: monitor.stdout! }).on('line', (line) => this.onLine(line));
    // Monitor first, then the dump: an event racing the dump is applied again, idempotently.
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
    this.timer = setInterval(() => this.sample(), this.opts.intervalMs ?? 10);
  }

  /** One kernel address event: applied, then judged at once (not at the next tick). */
  private onLine(line: string): void {
    const m = LINE.exec(line);
    const w = m ? this.byNsid.get(Number(m[1])) : undefined;
    if (!m || !w) return;
    if (m[2]) w.addrs.delete(m[3]!);
    else w.addrs.add(m[3]!);
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
    const m = this.monitor;
    this.monitor = null;
    if (m && m.exitCode === null && m.signalCode === null) {
      const gone = new Promise((r) => m.once('exit', r));
      m.kill('SIGKILL');
      await gone;
    }
    return this.report();
  }
}

/**
 * The id namespace `at` knows `ns` by (assigned on first use), as `all-nsid` events are
 * tagged with it.
 */
async function nsid(at: string, ns: string): Promise<number> {
  await run(['ip', '-n', at, 'netns', 'set', ns, 'auto'], { allowFail: true });
  const list = (await run(['ip', '-n', at, 'netns', 'list'])).stdout;
  for (const line of list.split('\n')) {
    const m = /^(\S+) \(id: (\d+)\)/.exec(line.trim());
    if (m && m[1] === ns) return Number(m[2]);
  }
  throw new LabError(`namespace ${ns} has no id in namespace ${at}`);
}
