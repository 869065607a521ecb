import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { HaloError } from '../errors.js';

/**
 * The demo's processes: a witness and one agent per node, each the real `halo` CLI, each
 * logging to DIR/logs/NAME.log. An agent that dies (the demo invites `kill -9`) is started
 * again after a pause, so the cluster is whole for the next experiment. Every process the
 * demo causes — agents, their deadman helpers, the s3rver copies — carries TAG_VAR in its
 * environment; stop() ends them all, found through /proc, so nothing outlives the demo.
 */

const HALO_CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
/** Not HALO_*: the agent strips those from the commands it runs, and s3rver must carry it. */
export const TAG_VAR = 'HALODEMO_TAG';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

export interface DemoClusterOptions {
  dir: string;
  configFile: string;
  tag: string;
  nodes: readonly string[];
  /** Pause before an agent that died is started again; null = leave it down. */
  restartAfterMs: number | null;
  say: (line: string) => void;
}

interface Managed {
  name: string;
  args: string[];
  ready: string;
  child: ChildProcess;
  log: WriteStream;
  exited: Promise<void>;
}

export class DemoCluster {
  private readonly opts: DemoClusterOptions;
  private readonly procs = new Map<string, Managed>();
  private stopping = false;
  private readonly restarts = new Set<Promise<void>>();
  private readonly stopSignal = new AbortController();

  constructor(opts: DemoClusterOptions) {
    this.opts = opts;
  }

  pid(name: string): number | undefined {
    const p = this.procs.get(name);
    return p && p.child.exitCode === null && p.child.signalCode === null ? p.child.pid : undefined;
  }

  logFile(name: string): string {
    return join(this.opts.dir, 'logs', `${name}.log`);
  }

  async startWitness(): Promise<void> {
    await this.launch('witness', ['witness', '-c', this.opts.configFile], 'witness started');
  }

  async startAgent(node: string): Promise<void> {
    const args = ['agent', '-c', this.opts.configFile, '--node', node];
    await this.launch(
      node,
      [...args, '--state-dir', join(this.opts.dir, `state-${node}`)],
      '"agent started"',
    );
  }

  /** SIGTERM to every agent at once (they stop their groups), then the witness, then leftovers. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopSignal.abort();
    await Promise.all(this.restarts);
    const agents = this.opts.nodes.map((n) => this.procs.get(n)).filter((p) => p !== undefined);
    await Promise.all(agents.map((p) => this.terminate(p)));
    const witness = this.procs.get('witness');
    if (witness) await this.terminate(witness);
    await killTagged(this.opts.tag);
  }

  private async terminate(p: Managed): Promise<void> {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGTERM');
      const cancel = new AbortController();
      const timedOut = await Promise.race([
        p.exited.then(() => false),
        sleep(STOP_TIMEOUT_MS, true, { signal: cancel.signal }).catch(() => false),
      ]);
      cancel.abort();
      if (timedOut) {
        this.opts.say(`${p.name} did not stop within ${STOP_TIMEOUT_MS / 1000} s; killing it`);
        p.child.kill('SIGKILL');
        await p.exited;
      }
    }
    await new Promise<void>((resolve) => p.log.end(resolve));
  }

  private async launch(name: string, args: string[], ready: string): Promise<void> {
    const log = createWriteStream(this.logFile(name), { flags: 'a' });
    const child = spawn(process.execPath, [HALO_CLI, ...args], {
      cwd: this.opts.dir,
      env: { ...process.env, [TAG_VAR]: this.opts.tag, HALO_PASS_ENV: TAG_VAR },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group: a Ctrl-C in the terminal reaches only the demo, which then stops
      // the agents in order instead of every process racing to exit on its own.
      detached: true,
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const managed: Managed = { name, args, ready, child, log, exited };
    this.procs.set(name, managed);
    let seen = '';
    let isReady = false;
    const readyNow = new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        log.write(chunk);
        if (isReady) return;
        seen = (seen + chunk.toString()).slice(-64 * 1024);
        if (seen.includes(ready)) {
          isReady = true;
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => {
        if (!isReady)
          reject(
            new HaloError(
              'HALO_E_DEMO_START_FAILED',
              `${name} exited during startup (${signal ?? `code ${code}`}); see ${this.logFile(name)}:\n${lastLines(seen, 5)}`,
            ),
          );
      });
    });
    child.once('exit', (code, signal) => this.onExit(managed, code, signal));
    const timeout = sleep(START_TIMEOUT_MS, 'timeout' as const, { signal: this.stopSignal.signal }).catch(
      () => 'stopped' as const,
    );
    const outcome = await Promise.race([readyNow.then(() => 'ready' as const), timeout]);
    if (outcome !== 'ready') {
      throw new HaloError(
        'HALO_E_TIMEOUT',
        `${name} was not ready within ${START_TIMEOUT_MS / 1000} s; see ${this.logFile(name)}`,
      );
    }
  }

  private onExit(p: Managed, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping || this.procs.get(p.name) !== p) return;
    this.opts.say(`${p.name} (pid ${p.child.pid}) exited (${signal ?? `code ${code}`})`);
    const delay = this.opts.restartAfterMs;
    if (delay === null || p.name === 'witness') return;
    this.opts.say(`restarting agent ${p.name} in ${delay / 1000} s so the cluster is whole again`);
    const restart = (async () => {
      try {
        await sleep(delay, undefined, { signal: this.stopSignal.signal });
        await new Promise<void>((resolve) => p.log.end(resolve));
        await this.launch(p.name, p.args, p.ready);
        this.opts.say(`agent ${p.name} is back (pid ${this.pid(p.name)})`);
      } catch (err) {
        if (!this.stopping) this.opts.say(`could not restart agent ${p.name}: ${(err as Error).message}`);
      }
    })();
    this.restarts.add(restart);
    void restart.finally(() => this.restarts.delete(restart));
  }
}

function lastLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

/** SIGKILLs every process carrying the demo's tag (deadman helpers, s3rver copies), until none is left. */
export async function killTagged(tag: string): Promise<number[]> {
  const killed: number[] = [];
  for (let round = 0; round < 20; round++) {
    const pids = taggedPids(tag);
    if (pids.length === 0) return killed;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
        killed.push(pid);
      } catch {
        // Gone in between.
      }
    }
    await sleep(50);
  }
  return killed;
}

/**
 * For a demo process that is forced to exit (a third Ctrl-C): SIGKILL every process carrying
 * TAG, synchronously, since an exit handler cannot wait on a timer.
 */
export function killTaggedNow(tag: string): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let round = 0; round < 20; round++) {
    const pids = taggedPids(tag);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone in between.
      }
    }
    Atomics.wait(pause, 0, 0, 50);
  }
}

export function taggedPids(tag: string): number[] {
  const needle = `${TAG_VAR}=${tag}`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(needle))
        pids.push(Number(entry));
    } catch {
      // Gone already, or not ours to read.
    }
  }
  return pids;
}
