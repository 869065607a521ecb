import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_NODE_FLAGS, DAEMON_V8_FLAGS } from '../../src/agent/node-flags.js';
import { LabError } from './exec.js';
import type { HttpAnswer } from './lab-client.js';
import type { AgentStatus } from './lab-config.js';
import { fail, LabCore, monoMs } from './lab-core.js';

/** The built CLI (`npm run build`), started inside the namespaces as agents and witness. */
export const HALO_CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/**
 * The node options agents and witness run with: the units' (what ships), plus any in
 * HALO_LAB_NODE_FLAGS (space-separated) for profiling a lab run, e.g. `--cpu-prof
 * --cpu-prof-dir=/tmp/prof` (node does not take those from NODE_OPTIONS).
 */
function daemonFlags(): string[] {
  const extra = process.env['HALO_LAB_NODE_FLAGS']?.split(/\s+/).filter(Boolean) ?? [];
  return [...DAEMON_NODE_FLAGS, ...DAEMON_V8_FLAGS, ...extra];
}

/**
 * The Halo processes of a lab: one agent per node and the witness, started with
 * `ip netns exec` from the built CLI, signalled one at a time, and their REST API reached
 * from the client namespace (as a client on the network would, so partitions apply to it).
 */
export class LabAgents extends LabCore {
  async startAgent(node: string): Promise<void> {
    const log = `agent-${node}`;
    const before = this.logs(log).length;
    const child = this.spawnIn(node, log, [
      process.execPath,
      ...daemonFlags(),
      HALO_CLI,
      'agent',
      '-c',
      this.configFile,
      '--node',
      node,
      '--state-dir',
      this.stateDir(node),
    ]);
    this.procs.set(node, child);
    await this.waitFor(`agent ${node} started`, () => {
      if (child.exitCode !== null || child.signalCode !== null)
        fail(
          `agent ${node} exited (${child.exitCode ?? child.signalCode}):\n${this.logs(log).slice(before)}`,
        );
      return this.logs(log).slice(before).includes('"agent started"');
    });
  }

  async startWitness(): Promise<void> {
    const log = 'witness';
    const before = this.logs(log).length;
    const child = this.spawnIn('w', log, [
      process.execPath,
      ...daemonFlags(),
      HALO_CLI,
      'witness',
      '-c',
      this.configFile,
    ]);
    this.procs.set('w', child);
    await this.waitFor('witness started', () => {
      if (child.exitCode !== null || child.signalCode !== null)
        fail(`witness exited:\n${this.logs(log).slice(before)}`);
      return this.logs(log).slice(before).includes('witness started');
    });
  }

  /**
   * Starts another program inside a member's namespace (keepalived for the benchmarks), under
   * `key` so `signal(key)` and the teardown reach it; its output goes to `<dir>/<key>.log`.
   */
  spawnService(name: string, key: string, argv: string[]): ChildProcess {
    const child = this.spawnIn(name, key, argv);
    this.procs.set(key, child);
    return child;
  }

  /** Pid of the agent (or `w` for the witness) as spawned; `ip netns exec` execs in place. */
  pid(name: string): number | undefined {
    const p = this.procs.get(name);
    return p && p.exitCode === null && p.signalCode === null ? p.pid : undefined;
  }

  /** Sends a signal to the agent or witness process only (its deadman helper lives on). Returns the monotonic time. */
  async signal(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<number> {
    const child = this.procs.get(name);
    const t = monoMs();
    if (!child || child.exitCode !== null || child.signalCode !== null) return t;
    if (signal === 'SIGKILL' || signal === 'SIGTERM' || signal === 'SIGINT') {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    } else child.kill(signal);
    return t;
  }

  // ---- API through the client namespace -----------------------------------------------------

  token(node: string): string {
    return readFileSync(join(this.stateDir(node), 'api.token'), 'utf8').trim();
  }

  async api(
    node: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    const answer: HttpAnswer = await this.client.http(`http://${this.address(node)}:7400${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token(node)}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    let parsed: unknown = answer.body;
    try {
      parsed = JSON.parse(answer.body);
    } catch {}
    return { status: answer.status, body: parsed };
  }

  async status(node: string): Promise<AgentStatus> {
    const { status, body } = await this.api(node, 'GET', '/v1/status');
    if (status !== 200) throw new LabError(`status of ${node}: HTTP ${status}`);
    return body as AgentStatus;
  }

  /** Nodes whose own agent reports `group` running on itself (unreachable agents are skipped). */
  async runningOn(group = 'vip'): Promise<string[]> {
    const out: string[] = [];
    for (const node of this.nodes) {
      if (this.pid(node) === undefined) continue;
      try {
        const s = await this.status(node);
        const g = s.groups.find((x: { name: string }) => x.name === group);
        if (g?.state === 'running') out.push(node);
      } catch {
        // Frozen, partitioned or dead: not a witness of anything.
      }
    }
    return out;
  }
}
