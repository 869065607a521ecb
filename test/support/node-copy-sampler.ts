import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/**
 * Watches every node's copies of one `process` resource on this machine, as the safety tests
 * need: a program whose command line names the node it runs for, sampled from /proc every
 * ~12 ms. Each sample lists the nodes with a live (non-zombie) copy (a node whose program is
 * forking a child shows once); a sample with two or more entries is an overlap.
 */

export interface CopySample {
  at: number;
  nodes: string[];
}

export interface CopySampler {
  /** The resource's `command` (a shell string; `$HALO_NODE` is expanded by the node's shell). */
  command: string;
  samples: CopySample[];
  /** Samples that saw more than one copy. */
  overlaps(): CopySample[];
  /** The nodes running a copy in the latest sample. */
  current(): string[];
  stop(): Promise<void>;
}

/**
 * The sampling loop, in a worker thread so that the test's own work (HTTP calls, timers)
 * cannot stretch the interval: a synchronous pass over /proc takes a few ms. PIDs are read in
 * descending order: a copy started later has a higher PID, so if a pass sees the new copy and
 * then, later in the same pass, the old one, the old one was alive when the new one was seen —
 * a real overlap, never one made up by the pass taking time.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { readdirSync, readFileSync } = require('node:fs');
const pattern = new RegExp(workerData.pattern);
const stop = new Int32Array(workerData.stop);
while (Atomics.load(stop, 0) === 0) {
  const at = Date.now();
  const nodes = new Set();
  const pids = readdirSync('/proc').filter((e) => /^[0-9]+$/.test(e)).map(Number).sort((a, b) => b - a);
  for (const pid of pids) {
    let cmdline;
    try {
      cmdline = readFileSync('/proc/' + pid + '/cmdline', 'latin1');
    } catch {
      continue;
    }
    // A zombie's command line reads empty, so a match is a live process.
    const m = pattern.exec(cmdline.replaceAll('\\0', ' '));
    if (m) nodes.add(m[1]);
  }
  parentPort.postMessage({ at, nodes: [...nodes].sort() });
  Atomics.wait(stop, 0, 0, Math.max(1, workerData.intervalMs - (Date.now() - at)));
}
`;

export function sampleCopies(intervalMs = 12): CopySampler {
  const mark = `halo-copy-${randomUUID().slice(0, 8)}`;
  // Only the program's own command line carries the expanded node name: the shells that
  // start it show the literal `$HALO_NODE`, which the pattern does not match.
  const pattern = `${mark}-(n\\d+)\\b`;
  const samples: CopySample[] = [];
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(WORKER, { eval: true, workerData: { pattern, stop: stop.buffer, intervalMs } });
  worker.on('message', (s: CopySample) => samples.push(s));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  let stopped: Promise<void> | undefined;
  return {
    command: `exec /bin/sh -c 'while sleep 1; do :; done' "${mark}-$HALO_NODE"`,
    samples,
    overlaps: () => samples.filter((s) => s.nodes.length > 1),
    current: () => samples.at(-1)?.nodes ?? [],
    stop() {
      stopped ??= (async () => {
        Atomics.store(stop, 0, 1);
        Atomics.notify(stop, 0);
        await exited;
      })();
      return stopped;
    },
  };
}

/**
 * Waits until the sampler's last `stableMs` of samples all show exactly `nodes`, or, with
 * `'any one'`, all show the same single node (returned).
 */
export async function copiesSettle(
  sampler: CopySampler,
  nodes: string[] | 'any one',
  what: string,
  { stableMs = 1000, timeoutMs = 30_000 } = {},
): Promise<string> {
  const wanted = () =>
    nodes === 'any one' ? (sampler.current().length === 1 ? sampler.current() : []) : nodes;
  const until = Date.now() + timeoutMs;
  for (;;) {
    const now = Date.now();
    const want = [...wanted()].sort().join(',');
    const recent = sampler.samples.filter((s) => s.at >= now - stableMs);
    const earlier = sampler.samples.some((s) => s.at < now - stableMs);
    if (want && earlier && recent.length > 0 && recent.every((s) => s.nodes.join(',') === want)) return want;
    if (now > until)
      throw new Error(`timed out waiting for ${what}: copies now on [${sampler.current().join(', ')}]`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
