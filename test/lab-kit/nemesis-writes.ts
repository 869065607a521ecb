import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { LabError } from './exec.js';
import type { Lab } from './lab.js';
import { checkWrites } from './nemesis-verdict.js';

export const NEMESIS_SERVICE = fileURLToPath(new URL('./nemesis-service.js', import.meta.url));

/** One acknowledged write: who acknowledged it, when it was sent and answered (monotonic ms). */
export interface Ack {
  seq: number;
  node: string;
  t0: number;
  t1: number;
}

export interface WriteCheck {
  attempted: number;
  acked: number;
  failed: number;
  failedBy: Record<string, number>;
  /** Acknowledged but absent from the shared file (must be empty). */
  lost: number[];
  /** Present more than once in the shared file (must be empty). */
  duplicated: number[];
  /** Stored although the client saw no acknowledgement (harmless: the answer was lost). */
  storedUnacked: number;
}

/**
 * The nemesis write load: a `store` on every node behind the VIP, appending to one file in a
 * directory all nodes share (the lab's "shared disk"), and a `writer` in the client
 * namespace sending numbered writes through the VIP (test/lab-kit/nemesis-service.ts). A write
 * counts only when acknowledged, and an acknowledged write must be in the file.
 */
export class WriteLoad {
  readonly file: string;
  readonly acks: Ack[] = [];
  attempted = 0;
  readonly failedBy: Record<string, number> = {};
  private readonly stores = new Map<string, ChildProcess>();
  private writerProc: ChildProcess | null = null;

  /** The stores are a resource of the group, started by the agents (the shared-disk lab), not by the load. */
  readonly storesByHalo: boolean;

  constructor(
    private readonly lab: Lab,
    readonly port = 9090,
    readonly intervalMs = 20,
    readonly timeoutMs = 150,
    opts: { file?: string; storesByHalo?: boolean } = {},
  ) {
    this.file = opts.file ?? join(lab.dir, 'shared', 'records.log');
    this.storesByHalo = opts.storesByHalo ?? false;
  }

  async start(): Promise<void> {
    if (!this.storesByHalo) {
      mkdirSync(join(this.lab.dir, 'shared'), { recursive: true });
      for (const node of this.lab.nodes) await this.startStore(node);
    }
    const child = this.spawnIn('c', 'writer', [
      'writer',
      this.lab.vip,
      String(this.port),
      String(this.intervalMs),
      String(this.timeoutMs),
    ]);
    this.writerProc = child;
    const ready = new Promise<void>((resolve) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line === 'ready') return resolve();
        this.onWriterLine(line);
      });
    });
    await Promise.race([
      ready,
      sleep(10_000).then(() => Promise.reject(new LabError('writer did not start'))),
    ]);
  }

  /** (Re)starts the store on `node`, e.g. after the node was crashed and powered on. */
  async startStore(node: string): Promise<void> {
    if (this.storesByHalo) return;
    const old = this.stores.get(node);
    if (old && old.exitCode === null && old.signalCode === null) old.kill('SIGKILL');
    const child = this.spawnIn(node, `store-${node}`, [
      'store',
      node,
      String(this.port),
      this.lab.vip,
      this.file,
    ]);
    this.stores.set(node, child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new LabError(`store on ${node} did not start`)), 10_000);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line !== 'listening') return;
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', () => {
        clearTimeout(timer);
        reject(new LabError(`store on ${node} exited`));
      });
    });
  }

  private spawnIn(member: string, log: string, args: string[]): ChildProcess {
    const fd = openSync(this.lab.logFile(log), 'a');
    try {
      return spawn('ip', ['netns', 'exec', this.lab.ns(member), process.execPath, NEMESIS_SERVICE, ...args], {
        stdio: ['pipe', 'pipe', fd],
      });
    } finally {
      closeSync(fd);
    }
  }

  private onWriterLine(line: string): void {
    const [kind, seq, what, t0, t1] = line.split(' ');
    if (kind !== 'A' && kind !== 'F') return;
    this.attempted += 1;
    if (kind === 'A') this.acks.push({ seq: Number(seq), node: what ?? '', t0: Number(t0), t1: Number(t1) });
    else {
      // "no-n2" → "no": refusals by node are noise in a summary; the kind of failure is not.
      const reason = (what ?? 'unknown').replace(/-.*$/, '');
      this.failedBy[reason] = (this.failedBy[reason] ?? 0) + 1;
    }
  }

  lastAck(): Ack | undefined {
    return this.acks.at(-1);
  }

  /** Acknowledgements answered at or after `since` (monotonic ms). */
  acksSince(since: number): Ack[] {
    const out: Ack[] = [];
    for (let i = this.acks.length - 1; i >= 0 && this.acks[i]!.t1 >= since; i--) out.push(this.acks[i]!);
    return out.reverse();
  }

  /**
   * The longest time the client went without an acknowledged write, over the window
   * [from, to]: gaps between consecutive acknowledgements, the one straddling `from` included.
   */
  longestGap(from: number, to: number): number | null {
    let prev: number | null = null;
    let longest: number | null = null;
    for (const a of this.acks) {
      if (a.t1 < from) {
        prev = a.t1;
        continue;
      }
      if (prev !== null) longest = Math.max(longest ?? 0, a.t1 - prev);
      prev = a.t1;
      if (a.t1 > to) break;
    }
    return longest;
  }

  /** Reads the shared file (or takes its text, read elsewhere) and compares it with what the client saw acknowledged. */
  check(records?: string): WriteCheck {
    const text = records ?? (existsSync(this.file) ? readFileSync(this.file, 'utf8') : '');
    return checkWrites(text, this.acks, this.attempted, this.failedBy);
  }

  /** Stops the writer (its last answers are read first), then the stores. */
  async stop(): Promise<void> {
    const w = this.writerProc;
    this.writerProc = null;
    if (w && w.exitCode === null && w.signalCode === null) {
      const gone = new Promise((r) => w.once('exit', r));
      w.stdin?.end();
      await Promise.race([gone, sleep(2000)]);
      if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    }
    for (const s of this.stores.values()) if (s.exitCode === null && s.signalCode === null) s.kill('SIGKILL');
    this.stores.clear();
  }

  /** For exit handlers: nothing asynchronous runs any more. */
  killSync(): void {
    for (const c of [this.writerProc, ...this.stores.values()])
      if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}
