import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  cpSync,
  existsSync,
  lstatSync,
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
import { DAEMON_ENV } from '../../src/agent/node-flags.js';
import { LabError, run } from './exec.js';
import type { Freezer } from './freezer.js';
import { LabClient } from './lab-client.js';
import { type LabOptions, labConfig } from './lab-config.js';
import {
  cableToSwitch,
  createNamespace,
  namespacesWithPrefixSync,
  removeNamespace,
  removeNamespaceSync,
} from './netns.js';
import type { SplitBrainChecker } from './split-brain.js';
import { type Member, type MemberRole, SUBNET_PREFIX, SWITCH } from './topology.js';

export const NS_MAIN = fileURLToPath(new URL('./ns-main.js', import.meta.url));
export const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/**
 * The ground a lab stands on: a switch namespace holding a bridge, one namespace per member
 * (nodes, witness, client) cabled to it by a veth pair, all addresses in 10.213.0.0/24 and
 * nothing in the root namespace; the programs started inside those namespaces with their
 * logs; and the teardown that removes all of it. Agents, the API and faults are added by
 * `Lab` (lab.ts), which is what tests use.
 */
export class LabCore {
  readonly members: ReadonlyMap<string, Member>;
  readonly vip = `${SUBNET_PREFIX}.200`;
  readonly servicePort: number;
  readonly configFile: string;
  readonly nodes: string[];
  /** Agents, the witness and extra services, by key (node name, `w`, or the service key). */
  protected readonly procs = new Map<string, ChildProcess>();
  protected readonly responders = new Map<string, ChildProcess>();
  protected readonly freezers = new Map<string, Freezer>();
  /** Observer processes inside node namespaces (ip monitor) that faults must not touch. */
  protected readonly observers = new Set<number>();
  protected checker: SplitBrainChecker | null = null;
  protected unregister: () => void = () => {};
  private clientProc: ChildProcess | null = null;
  private clientHandle: LabClient | null = null;
  private cleaned = false;

  protected constructor(
    readonly prefix: string,
    readonly dir: string,
    members: Member[],
    protected readonly opts: LabOptions,
  ) {
    this.members = new Map(members.map((m) => [m.name, m]));
    this.nodes = members.filter((m) => m.role === 'node').map((m) => m.name);
    this.servicePort = opts.servicePort ?? 8080;
    this.configFile = join(dir, 'halo.yaml');
  }

  // ---- topology -----------------------------------------------------------------------------

  protected async build(): Promise<void> {
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
    const witness = this.membersOf('witness')[0];
    const config = labConfig(this.opts, this.membersOf('node'), witness, this.vip, keyFile);
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

  // ---- processes and their logs -------------------------------------------------------------

  /** Starts `argv` inside `name`'s namespace with stdout+stderr appended to `<dir>/<log>.log`. */
  protected spawnIn(
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
        // DAEMON_ENV: what the units give the agent and the witness, so the lab measures what ships.
        env: {
          ...process.env,
          ...DAEMON_ENV,
          HALO_LOG_LEVEL: this.opts.logLevel ?? 'info',
          HALO_LAB: this.prefix,
        },
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
    // Not the key, and not the deadman's lifeline FIFO (cpSync refuses FIFOs and sockets).
    cpSync(this.dir, dest, {
      recursive: true,
      filter: (src) => !src.endsWith('.key') && !isSpecialFile(src),
    });
    return dest;
  }

  logs(name: string): string {
    try {
      return readFileSync(this.logFile(name), 'utf8');
    } catch {
      return '';
    }
  }

  /** The node's service behind the VIP (ns-main.ts `responder`): answers with its node name. */
  protected async startResponder(node: string): Promise<void> {
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

  /**
   * Polls `probe` every 25 ms until it returns a value (not undefined/false) and returns it.
   * A probe that throws ProbeFailed (`fail()`) ends the wait at once; other errors are
   * retried and the last one is quoted in the timeout error.
   */
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

  // ---- teardown -----------------------------------------------------------------------------

  async cleanup(): Promise<void> {
    if (this.cleaned) return;
    this.cleaned = true;
    this.unregister();
    await this.checker?.stop();
    this.clientProc?.stdin?.end();
    // A frozen task ignores even SIGKILL: thaw first.
    for (const f of this.freezers.values()) f.thaw();
    this.killChildren();
    // Namespaces of members first (they hold the processes), the switch last.
    const all = [...this.members.values()].sort(
      (a, b) => Number(a.role === 'switch') - Number(b.role === 'switch'),
    );
    for (const m of all) await removeNamespace(m.ns);
    for (const ns of namespacesWithPrefixSync(this.prefix)) await removeNamespace(ns);
    for (const f of this.freezers.values()) f.remove();
    this.removeDir();
  }

  /** The same, synchronously, for exit and signal handlers (nothing asynchronous runs there). */
  protected cleanupSync(): void {
    if (this.cleaned) return;
    this.cleaned = true;
    for (const f of this.freezers.values()) f.thaw();
    this.killChildren();
    for (const ns of namespacesWithPrefixSync(this.prefix)) removeNamespaceSync(ns);
    for (const f of this.freezers.values()) f.remove();
    this.removeDir();
  }

  private killChildren(): void {
    for (const child of [
      ...this.procs.values(),
      ...this.responders.values(),
      ...(this.clientProc ? [this.clientProc] : []),
    ])
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
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

/** Ends a `waitFor` at once: the thing waited for can no longer happen. */
export function fail(message: string): never {
  throw new ProbeFailed(message);
}

/** A FIFO, socket or device: nothing to keep, and cpSync cannot copy it. */
function isSpecialFile(path: string): boolean {
  try {
    const st = lstatSync(path);
    return st.isFIFO() || st.isSocket() || st.isCharacterDevice() || st.isBlockDevice();
  } catch {
    return false;
  }
}
