import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HaloError } from '../../errors.js';
import { childLogger, type Logger, silentLogger } from '../../log.js';
import type { Link } from '../transport/udp-transport.js';
import { type AgentToHelper, type ArmSpec, type HelperToAgent, LineDecoder } from './protocol.js';

export type { ArmSpec } from './protocol.js';

/**
 * The agent's handle on its deadman helper, the process that fences when the agent cannot. The
 * coordinator re-arms a group on every successful renewal with the new deadline
 * (t0 + V − gh, on CLOCK_MONOTONIC: `process.hrtime.bigint()` in ms is the same clock in
 * both processes), and disarms it after a planned stop and release.
 */

export interface DeadmanSpawnOptions {
  nodeName: string;
  cluster: string;
  epoch: number;
  key: Buffer;
  /** Where to send the release when the agent dies (this node's own entry is skipped). */
  voters: Record<string, Link[]>;
  /** SIGTERM → SIGKILL grace when the agent died (bounded by each group's deadline). Default 200 ms. */
  killGraceMs?: number;
  /** The lifeline FIFO the helper holds open for writing (see lifeline.ts); none when absent. */
  lifeline?: string;
  /** The helper's stderr (JSON lines): a file descriptor, or by default the agent's. */
  stderr?: 'inherit' | 'ignore' | number;
  /** How long to wait for the helper to answer a request. Default 5 s. */
  requestTimeoutMs?: number;
  log?: Logger;
}

export type DeadmanEvent =
  /** A group's deadline passed and the helper ran its fence actions. */
  | { type: 'fenced'; group: string; confirmed: boolean }
  /** The helper exited; `expected` is false unless `stop()` asked for it. */
  | { type: 'exit'; code: number | null; signal: NodeJS.Signals | null; expected: boolean };

type Ack = Extract<HelperToAgent, { t: 'ack' }>;
type Pending = { resolve: (ack: Ack) => void; reject: (err: Error) => void; timer: NodeJS.Timeout };

export const DEADMAN_MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

export class DeadmanClient {
  private readonly child: ChildProcess;
  private readonly opts: DeadmanSpawnOptions;
  private readonly log: Logger;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners: Array<(e: DeadmanEvent) => void> = [];
  private readonly exited: Promise<void>;
  private nextId = 1;
  private stopping = false;
  private alive = true;

  private constructor(child: ChildProcess, opts: DeadmanSpawnOptions) {
    this.child = child;
    this.opts = opts;
    this.log = childLogger(opts.log ?? silentLogger, { component: 'deadman' });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Starts the helper and hands it the identity and key over the pipe. */
  static async spawn(opts: DeadmanSpawnOptions): Promise<DeadmanClient> {
    // The helper is tiny and mostly idle: no optimizing compiler and a small young
    // generation keep its resident size down (it runs beside every agent).
    const child = spawn(
      process.execPath, // --lite-mode implies --jitless, which turns WebAssembly off with a warning on every start
      // unless wasm is off already: --no-expose-wasm keeps stderr clean.
      ['--lite-mode', '--no-expose-wasm', '--max-semi-space-size=1', DEADMAN_MAIN],
      {
        // Own process group: a signal to the agent's group (Ctrl-C, a killed session) spares it.
        detached: true,
        stdio: ['pipe', 'pipe', opts.stderr ?? 'inherit'],
        env: process.env,
      },
    );
    const client = new DeadmanClient(child, opts);
    client.wire();
    try {
      await client.request({
        t: 'init',
        id: 0,
        nodeName: opts.nodeName,
        cluster: opts.cluster,
        epoch: opts.epoch,
        key: opts.key.toString('base64'),
        voters: opts.voters,
        ...(opts.killGraceMs !== undefined ? { killGraceMs: opts.killGraceMs } : {}),
        ...(opts.lifeline !== undefined ? { lifeline: opts.lifeline } : {}),
      });
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
    return client;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  on(listener: (e: DeadmanEvent) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Arms or re-arms a group; resolves once the helper holds the new deadline. */
  arm(group: string, spec: ArmSpec): Promise<void> {
    return this.request({ t: 'arm', id: 0, group, ...spec }).then(() => undefined);
  }

  /**
   * Moves the deadline of groups the helper holds armed (see the `extend` request); resolves
   * with those it does not hold.
   */
  async extend(groups: string[], deadlineMonoMs: number): Promise<string[]> {
    const ack = await this.request({ t: 'extend', id: 0, groups, deadlineMonoMs });
    return ack.missing ?? [];
  }

  disarm(group: string): Promise<void> {
    return this.request({ t: 'disarm', id: 0, group }).then(() => undefined);
  }

  /** New config epoch, key or voters (config push). */
  configure(change: { epoch?: number; key?: Buffer; voters?: Record<string, Link[]> }): Promise<void> {
    return this.request({
      t: 'config',
      id: 0,
      ...(change.epoch !== undefined ? { epoch: change.epoch } : {}),
      ...(change.key !== undefined ? { key: change.key.toString('base64') } : {}),
      ...(change.voters !== undefined ? { voters: change.voters } : {}),
    }).then(() => undefined);
  }

  /** Ends a helper that stopped answering (the exit event follows, as unexpected). */
  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }

  /** Planned shutdown: the helper disarms everything and exits without acting. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.stopping = true;
    try {
      await this.request({ t: 'stop', id: 0 });
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'deadman helper did not acknowledge stop; killing it');
      this.child.kill('SIGKILL');
    }
    this.child.stdin?.end();
    await this.exited;
  }

  private wire(): void {
    const decoder = new LineDecoder(
      (value) => this.onReply(value as HelperToAgent),
      (length) => this.log.warn({ length }, 'ignored a line from the deadman helper that is not JSON'),
    );
    this.child.stdout?.on('data', (chunk: Buffer) => decoder.push(chunk));
    // Writing to a helper that died must not crash the agent; the exit event reports it.
    this.child.stdin?.on('error', (err) => this.log.debug({ err: err.message }, 'deadman pipe error'));
    this.child.once('error', (err) => this.log.error({ err: err.message }, 'deadman helper failed to start'));
    this.child.once('exit', (code, signal) => {
      this.alive = false;
      const expected = this.stopping;
      if (!expected) this.log.error({ code, signal }, 'deadman helper exited unexpectedly');
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new HaloError('HALO_E_INTERNAL', 'the deadman helper exited', { code, signal }));
      }
      this.pending.clear();
      this.emit({ type: 'exit', code, signal, expected });
    });
  }

  private onReply(msg: HelperToAgent): void {
    if (msg.t === 'fenced') {
      this.log.warn(
        { group: msg.group, confirmed: msg.confirmed },
        'deadman helper fenced a group at its deadline',
      );
      this.emit({ type: 'fenced', group: msg.group, confirmed: msg.confirmed });
      return;
    }
    const p = this.pending.get(msg.id);
    if (p === undefined) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.t === 'ack') p.resolve(msg);
    else p.reject(new HaloError('HALO_E_INTERNAL', `deadman helper refused the request: ${msg.message}`));
  }

  private request(msg: AgentToHelper): Promise<Ack> {
    if (!this.alive)
      return Promise.reject(new HaloError('HALO_E_INTERNAL', 'the deadman helper is not running'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timeoutMs = this.opts.requestTimeoutMs ?? 5000;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new HaloError('HALO_E_TIMEOUT', `the deadman helper did not answer within ${timeoutMs}ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.child.stdin?.write(`${JSON.stringify({ ...msg, id })}\n`);
    });
  }

  private emit(event: DeadmanEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'deadman listener failed');
      }
    }
  }
}
