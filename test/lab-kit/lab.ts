import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { registerCleanup } from './cleanup.js';
import { LabError, run } from './exec.js';
import { addDelay, addLoss, blockPeer, clearDelay, healNamespace } from './firewall.js';
import { Freezer } from './freezer.js';
import { type HttpAnswer, LabClient } from './lab-client.js';
import {
  cableToSwitch,
  createNamespace,
  killNamespaceProcesses,
  namespacesWithPrefixSync,
  nextLabPrefix,
  nsPids,
  removeNamespace,
  removeNamespaceSync,
  sweepStale,
} from './netns.js';
import { SplitBrainChecker } from './split-brain.js';
import { type Member, type MemberRole, planTopology, SUBNET_PREFIX, SWITCH } from './topology.js';

export const HALO_CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
export const NS_MAIN = fileURLToPath(new URL('./ns-main.js', import.meta.url));
export const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** The parts of `GET /v1/status` the lab reads. */
export interface AgentStatus {
  quorum: boolean;
  quarantined: boolean;
  groups: Array<{ name: string; state: string; owner: string | null; term: string | null }>;
  [key: string]: unknown;
}

export interface LabOptions {
  /** Node names (default n1, n2). */
  nodes?: string[];
  /** A witness namespace and process (default true). */
  witness?: boolean;
  /** cluster.timing (default `fast`). */
  timing?: string | Record<string, string>;
  /** Groups; default one group `vip` on every node holding the lab's VIP as an `ip` resource. */
  groups?: Record<string, unknown>;
  autoFailback?: boolean;
  /** TCP port of each node's responder (default 8080). */
  servicePort?: number;
  /** Agents' HALO_LOG_LEVEL (default info). */
  logLevel?: string;
  /** cluster.coordination (e.g. etcd, with `witness: false`; see etcd.ts); default embedded. */
  coordination?: Record<string, unknown>;
}

/**
 * A throw-away network of namespaces (DESIGN.md §11): a switch namespace holding a bridge,
 * one namespace per node, one for the witness and one for the client, joined by veth pairs,
 * all addresses in 10.213.0.0/24 and nothing in the root namespace. Agents and the witness
 * are the built CLI started with `ip netns exec`. Everything is removed by `cleanup()` — and
 * by exit/signal handlers when a test dies before it can call it.
 */
export class Lab {
  readonly members: ReadonlyMap<string, Member>;
  readonly vip = `${SUBNET_PREFIX}.200`;
  readonly servicePort: number;
  readonly configFile: string;
  readonly nodes: string[];
  private readonly procs = new Map<string, ChildProcess>();
  private readonly responders = new Map<string, ChildProcess>();
  private clientProc: ChildProcess | null = null;
  private readonly freezers = new Map<string, Freezer>();
  /** Observer processes inside node namespaces (ip monitor) that faults must not touch. */
  private readonly observers = new Set<number>();
  private checker: SplitBrainChecker | null = null;
  private clientHandle: LabClient | null = null;
  private unregister: () => void = () => {};
  private cleaned = false;

  private constructor(
    readonly prefix: string,
    readonly dir: string,
    members: Member[],
    private readonly opts: LabOptions,
  ) {
    this.members = new Map(members.map((m) => [m.name, m]));
    this.nodes = members.filter((m) => m.role === 'node').map((m) => m.name);
    this.servicePort = opts.servicePort ?? 8080;
    this.configFile = join(dir, 'halo.yaml');
  }

  static async create(opts: LabOptions = {}): Promise<Lab> {
    if (process.getuid?.() !== 0) throw new LabError('the lab needs root (ip netns, nft)');
    await sweepStale();
    const prefix = nextLabPrefix();
    const dir = mkdtempSync(join(tmpdir(), `${prefix}`));
    const members = planTopology(prefix, opts.nodes ?? ['n1', 'n2'], opts.witness ?? true);
    const lab = new Lab(prefix, dir, members, opts);
    lab.unregister = registerCleanup(() => lab.cleanupSync());
    try {
      await lab.build();
    } catch (err) {
      await lab.cleanup();
      throw err;
    }
    return lab;
  }

  // ---- topology -----------------------------------------------------------------------------

  private async build(): Promise<void> {
    const sw = this.ns(SWITCH);
    for (const m of this.members.values()) {
      await createNamespace(m.ns);
      // No IPv6 link-local addresses: the lab's only addresses are in 10.213.0.0/16.
      await run([
        'ip',
        'netns',
        'exec',
        m.ns,
        'sysctl',
        '-q',
        '-w',
        'net.ipv6.conf.all.disable_ipv6=1',
        'net.ipv6.conf.default.disable_ipv6=1',
      ]);
    }
    await run([
      'ip',
      '-n',
      sw,
      'link',
      'add',
      'br0',
      'type',
      'bridge',
      'stp_state',
      '0',
      'forward_delay',
      '0',
    ]);
    await run(['ip', '-n', sw, 'link', 'set', 'br0', 'up']);
    for (const m of this.members.values()) {
      if (m.role === 'switch') continue;
      await cableToSwitch(sw, m.ns, m.port, m.address);
    }
    this.writeConfig();
    for (const node of this.nodes) await this.startResponder(node);
    await this.startClient();
  }

  private writeConfig(): void {
    const keyFile = join(this.dir, 'cluster.key');
    writeFileSync(keyFile, randomBytes(32).toString('hex'), { mode: 0o600 });
    const witness = [...this.members.values()].find((m) => m.role === 'witness');
    const config = {
      cluster: {
        name: 'lab',
        secretFile: keyFile,
        timing: this.opts.timing ?? 'fast',
        ...(witness || this.opts.coordination ? {} : { unsafe: true }),
        ...(this.opts.coordination ? { coordination: this.opts.coordination } : {}),
      },
      nodes: Object.fromEntries(this.nodes.map((n) => [n, { address: this.address(n) }])),
      ...(witness ? { witness: { address: witness.address, port: 7402 } } : {}),
      groups: this.opts.groups ?? {
        vip: {
          nodes: this.nodes,
          ...(this.opts.autoFailback !== undefined ? { autoFailback: this.opts.autoFailback } : {}),
          resources: { vip: { type: 'ip', ip: this.vip, prefix: 32, device: 'eth0', arpCount: 3 } },
        },
      },
    };
    writeFileSync(this.configFile, stringify(config));
  }

  member(name: string): Member {
    const m = this.members.get(name);
    if (!m) throw new LabError(`no lab member "${name}"`);
    return m;
  }

  ns(name: string): string {
    return this.member(name).ns;
  }

  address(name: string): string {
    return this.member(name).address;
  }

  membersOf(role: MemberRole): Member[] {
    return [...this.members.values()].filter((m) => m.role === role);
  }

  // ---- processes ----------------------------------------------------------------------------

  /** Starts `argv` inside `name`'s namespace with stdout+stderr appended to `<dir>/<log>.log`. */
  private spawnIn(
    name: string,
    log: string,
    argv: string[],
    stdin: 'ignore' | 'pipe' = 'ignore',
  ): ChildProcess {
    const fd = openSync(this.logFile(log), 'a');
    try {
      const stdout = stdin === 'pipe' ? 'pipe' : fd;
      return spawn('ip', ['netns', 'exec', this.ns(name), ...argv], {
        stdio: [stdin, stdout, fd],
        env: { ...process.env, HALO_LOG_LEVEL: this.opts.logLevel ?? 'info', HALO_LAB: this.prefix },
      });
    } finally {
      closeSync(fd);
    }
  }

  logFile(name: string): string {
    return join(this.dir, `${name}.log`);
  }

  /** Copies every log of this lab to a directory that outlives the teardown; returns it. */
  keepLogs(): string {
    const dest = join(tmpdir(), 'halo-lab-logs', this.prefix.slice(0, -1));
    cpSync(this.dir, dest, { recursive: true, filter: (src) => !src.endsWith('.key') });
    return dest;
  }

  logs(name: string): string {
    try {
      return readFileSync(this.logFile(name), 'utf8');
    } catch {
      return '';
    }
  }

  private async startResponder(node: string): Promise<void> {
    const child = this.spawnIn(node, `responder-${node}`, [
      process.execPath,
      NS_MAIN,
      'responder',
      node,
      String(this.servicePort),
    ]);
    this.responders.set(node, child);
    await this.waitFor(
      `responder on ${node}`,
      () =>
        this.logs(`responder-${node}`).includes('listening') ||
        (child.exitCode !== null ? fail(`responder on ${node} exited`) : false),
      10_000,
    );
  }

  private async startClient(): Promise<void> {
    const child = this.spawnIn('c', 'client', [process.execPath, NS_MAIN, 'client'], 'pipe');
    this.clientProc = child;
    this.clientHandle = new LabClient(child);
    await Promise.race([this.clientHandle.ready, sleep(10_000).then(() => fail('lab client did not start'))]);
  }

  get client(): LabClient {
    if (!this.clientHandle) throw new LabError('the lab client is not running');
    return this.clientHandle;
  }

  stateDir(node: string): string {
    return join(this.dir, `state-${node}`);
  }

  async startAgent(node: string): Promise<void> {
    const log = `agent-${node}`;
    const before = this.logs(log).length;
    const child = this.spawnIn(node, log, [
      process.execPath,
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
    const child = this.spawnIn('w', log, [process.execPath, HALO_CLI, 'witness', '-c', this.configFile]);
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

  async waitFor<T>(
    what: string,
    probe: () => Promise<T | undefined | false> | T | undefined | false,
    timeoutMs = 20_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        const v = await probe();
        if (v !== undefined && v !== false) return v as T;
      } catch (err) {
        if (err instanceof ProbeFailed) throw err;
        last = err;
      }
      await sleep(25);
    }
    throw new LabError(
      `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
    );
  }

  // ---- faults (each returns the monotonic ms at which it was injected) ----------------------

  /** The split-brain checker for the lab's VIP (one per lab; faults keep it informed). */
  watchVip(intervalMs = 10): SplitBrainChecker {
    this.checker ??= new SplitBrainChecker(
      this.nodes.map((n) => ({ name: n, ns: this.ns(n) })),
      this.vip,
      intervalMs,
      (pid) => this.observers.add(pid),
    );
    return this.checker;
  }

  /** Cable pulled: the member's port on the bridge goes down. */
  async linkDown(name: string): Promise<number> {
    const t = monoMs();
    await run(['ip', '-n', this.ns(SWITCH), 'link', 'set', this.member(name).port, 'down']);
    return t;
  }

  async linkUp(name: string): Promise<number> {
    const t = monoMs();
    await run(['ip', '-n', this.ns(SWITCH), 'link', 'set', this.member(name).port, 'up']);
    return t;
  }

  /** Power loss: link down, then every process in the namespace SIGKILLed (agent, helper, service). */
  async crashNode(name: string): Promise<number> {
    const t = await this.linkDown(name);
    this.checker?.setPowered(name, false);
    await killNamespaceProcesses(this.ns(name), 3000, this.observers);
    this.procs.delete(name);
    this.responders.delete(name);
    return t;
  }

  /** Boots a crashed node: addresses as after a reboot (no VIP), link up, service back; not the agent. */
  async powerOn(name: string): Promise<void> {
    const m = this.member(name);
    await run(['ip', '-n', m.ns, 'addr', 'flush', 'dev', 'eth0']);
    await run(['ip', '-n', m.ns, 'addr', 'add', `${m.address}/24`, 'dev', 'eth0']);
    await this.linkUp(name);
    if (m.role === 'node') await this.startResponder(name);
    this.checker?.setPowered(name, true);
  }

  /** Cuts traffic between every member of `a` and every member of `b` (both directions). */
  async partition(a: string[], b: string[]): Promise<number> {
    const t = monoMs();
    for (const x of a)
      for (const y of b) {
        await blockPeer(this.ns(x), this.address(y));
        await blockPeer(this.ns(y), this.address(x));
      }
    return t;
  }

  /** Drops only what `from` sends to `to`. */
  async dropOneWay(from: string, to: string): Promise<number> {
    const t = monoMs();
    await blockPeer(this.ns(from), this.address(to), 'out');
    await blockPeer(this.ns(to), this.address(from), 'in');
    return t;
  }

  /** Separates a member from every other node and the witness (the client still reaches it). */
  isolate(name: string): Promise<number> {
    const others = [...this.members.values()]
      .filter((m) => (m.role === 'node' || m.role === 'witness') && m.name !== name)
      .map((m) => m.name);
    return this.partition([name], others);
  }

  async heal(): Promise<number> {
    const t = monoMs();
    for (const m of this.members.values()) if (m.role !== 'switch') await healNamespace(m.ns);
    return t;
  }

  loss(name: string, percent: number): Promise<void> {
    return addLoss(this.ns(name), 'eth0', percent);
  }

  delay(name: string, delayMs: number, jitterMs = 0): Promise<void> {
    return addDelay(this.ns(name), 'eth0', delayMs, jitterMs);
  }

  clearDelay(name: string): Promise<void> {
    return clearDelay(this.ns(name), 'eth0');
  }

  /**
   * Freezes a node's agent and deadman helper together (cgroup freezer; scenario 13). The
   * service (responder) keeps running, as an application outside Halo's control would.
   * Returns false when the machine has no freezer.
   */
  async freeze(name: string): Promise<boolean> {
    if (!Freezer.available()) return false;
    const responder = this.responders.get(name)?.pid;
    const pids = (await this.pidsIn(name)).filter((p) => p !== responder && !this.observers.has(p));
    const freezer = this.freezers.get(name) ?? new Freezer(`${this.prefix}${name}`);
    this.freezers.set(name, freezer);
    await freezer.freeze(pids);
    return true;
  }

  async thaw(name: string): Promise<number> {
    const t = monoMs();
    this.freezers.get(name)?.thaw();
    return t;
  }

  /** Pids of every process in a member's namespace. */
  pidsIn(name: string): Promise<number[]> {
    return nsPids(this.ns(name));
  }

  // ---- teardown -----------------------------------------------------------------------------

  async cleanup(): Promise<void> {
    if (this.cleaned) return;
    this.cleaned = true;
    this.unregister();
    await this.checker?.stop();
    this.clientProc?.stdin?.end();
    for (const f of this.freezers.values()) f.thaw();
    for (const child of [
      ...this.procs.values(),
      ...this.responders.values(),
      ...(this.clientProc ? [this.clientProc] : []),
    ])
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    // Namespaces of members first (they hold the processes), the switch last.
    const all = [...this.members.values()].sort(
      (a, b) => Number(a.role === 'switch') - Number(b.role === 'switch'),
    );
    for (const m of all) await removeNamespace(m.ns);
    for (const ns of namespacesWithPrefixSync(this.prefix)) await removeNamespace(ns);
    for (const f of this.freezers.values()) f.remove();
    this.removeDir();
  }

  private cleanupSync(): void {
    if (this.cleaned) return;
    this.cleaned = true;
    for (const f of this.freezers.values()) f.thaw();
    for (const child of [
      ...this.procs.values(),
      ...this.responders.values(),
      ...(this.clientProc ? [this.clientProc] : []),
    ])
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const ns of namespacesWithPrefixSync(this.prefix)) removeNamespaceSync(ns);
    for (const f of this.freezers.values()) f.remove();
    this.removeDir();
  }

  private removeDir(): void {
    if (process.env['HALO_LAB_KEEP']) {
      process.stderr.write(`lab ${this.prefix}: logs kept in ${this.dir}\n`);
      return;
    }
    if (existsSync(this.dir)) rmSync(this.dir, { recursive: true, force: true });
  }
}

class ProbeFailed extends LabError {
  override name = 'ProbeFailed';
}

function fail(message: string): never {
  throw new ProbeFailed(message);
}
