import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { LabError, run } from './exec.js';
import type { Lab } from './lab.js';
import { monoMs } from './lab.js';
import { cableToSwitch, createNamespace, removeNamespace } from './netns.js';
import { SUBNET_PREFIX, SWITCH } from './topology.js';

/**
 * A real etcd cluster inside a lab, for the etcd coordination backend (docs/coordination-etcd.md):
 * one namespace per member (`<lab prefix>e1` …), cabled to the lab's bridge like any other
 * member, at 10.213.0.231 and up. Nothing listens on the host's loopback, so a node's crash
 * (link down) also cuts that node off from etcd, as it would on real machines.
 *
 * The namespaces carry the lab's prefix, so `Lab.cleanup()` and its exit handlers remove them
 * (and the etcd processes in them) even when `stop()` never ran; the data dirs live in the
 * lab's dir and go with it.
 */

export const LAB_ETCD_BIN = process.env['HALO_ETCD_BIN'] ?? '/usr/bin/etcd';
const FIRST_HOST = 231;
const CLIENT_PORT = 2379;
const PEER_PORT = 2380;

export interface LabEtcdOptions {
  /** Members (default 3). */
  members?: number;
  /** etcd --heartbeat-interval in ms (default 100, etcd's own default). */
  heartbeatMs?: number;
  /** etcd --election-timeout in ms (default 1000, etcd's own default). */
  electionMs?: number;
}

interface EtcdMember {
  name: string;
  ns: string;
  port: string;
  address: string;
  proc: ChildProcess | undefined;
}

export function labEtcdAvailable(): boolean {
  return existsSync(LAB_ETCD_BIN);
}

/** Client URLs of an n-member lab etcd: known before the lab exists, so they can go in its config. */
export function labEtcdEndpoints(members = 3): string[] {
  return Array.from(
    { length: members },
    (_, i) => `http://${SUBNET_PREFIX}.${FIRST_HOST + i}:${CLIENT_PORT}`,
  );
}

export class LabEtcd {
  readonly members: EtcdMember[];
  readonly endpoints: string[];
  private readonly heartbeatMs: number;
  private readonly electionMs: number;

  constructor(
    private readonly lab: Lab,
    opts: LabEtcdOptions = {},
  ) {
    const count = opts.members ?? 3;
    this.heartbeatMs = opts.heartbeatMs ?? 100;
    this.electionMs = opts.electionMs ?? 1000;
    this.endpoints = labEtcdEndpoints(count);
    this.members = Array.from({ length: count }, (_, i) => ({
      name: `e${i + 1}`,
      ns: `${lab.prefix}e${i + 1}`,
      port: `p-etcd${i + 1}`,
      address: `${SUBNET_PREFIX}.${FIRST_HOST + i}`,
      proc: undefined,
    }));
  }

  /** Namespaces, cables, processes; resolves once every member answers /health. */
  async start(): Promise<void> {
    if (!labEtcdAvailable()) throw new LabError(`etcd not found at ${LAB_ETCD_BIN} (set HALO_ETCD_BIN)`);
    const sw = this.lab.ns(SWITCH);
    for (const m of this.members) {
      await createNamespace(m.ns);
      await run(['ip', 'netns', 'exec', m.ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1']);
      await cableToSwitch(sw, m.ns, m.port, m.address);
    }
    for (const m of this.members) this.launch(m);
    await this.waitHealthy(30_000);
  }

  private member(name: string): EtcdMember {
    const m = this.members.find((x) => x.name === name);
    if (!m) throw new LabError(`no lab etcd member "${name}"`);
    return m;
  }

  private clientUrl(m: EtcdMember): string {
    return `http://${m.address}:${CLIENT_PORT}`;
  }

  private launch(m: EtcdMember): void {
    const peer = (x: EtcdMember) => `http://${x.address}:${PEER_PORT}`;
    const fd = openSync(this.lab.logFile(`etcd-${m.name}`), 'a');
    try {
      m.proc = spawn(
        'ip',
        [
          'netns',
          'exec',
          m.ns,
          LAB_ETCD_BIN,
          '--name',
          m.name,
          '--data-dir',
          join(this.lab.dir, `etcd-${m.name}`),
          '--listen-client-urls',
          this.clientUrl(m),
          '--advertise-client-urls',
          this.clientUrl(m),
          '--listen-peer-urls',
          peer(m),
          '--initial-advertise-peer-urls',
          peer(m),
          '--initial-cluster',
          this.members.map((x) => `${x.name}=${peer(x)}`).join(','),
          '--initial-cluster-state',
          'new',
          '--initial-cluster-token',
          `${this.lab.prefix}etcd`,
          '--heartbeat-interval',
          String(this.heartbeatMs),
          '--election-timeout',
          String(this.electionMs),
          '--logger',
          'zap',
          '--log-level',
          'warn',
        ],
        { stdio: ['ignore', fd, fd] },
      );
    } finally {
      closeSync(fd);
    }
  }

  private alive(m: EtcdMember): boolean {
    return m.proc !== undefined && m.proc.exitCode === null && m.proc.signalCode === null;
  }

  /** GET through the lab client (the host has no route into the lab). */
  private async get(m: EtcdMember, path: string): Promise<string | undefined> {
    try {
      const a = await this.lab.client.http(`${this.clientUrl(m)}${path}`);
      return a.status === 200 ? a.body : undefined;
    } catch {
      return undefined;
    }
  }

  /** Resolves once every running member reports healthy (it has a leader and serves reads). */
  async waitHealthy(timeoutMs = 20_000): Promise<void> {
    await this.lab.waitFor(
      'a healthy lab etcd',
      async () => {
        for (const m of this.members) {
          if (!this.alive(m)) continue;
          const body = await this.get(m, '/health');
          if (!body || !/"health":\s*"true"/.test(body)) return false;
        }
        return true;
      },
      timeoutMs,
    );
  }

  /** Name of the member that reports itself leader (`etcd_server_is_leader 1` in /metrics). */
  async leader(timeoutMs = 10_000): Promise<string> {
    return this.lab.waitFor(
      'an etcd leader',
      async () => {
        for (const m of this.members) {
          if (!this.alive(m)) continue;
          const metrics = await this.get(m, '/metrics');
          if (metrics && /^etcd_server_is_leader 1$/m.test(metrics)) return m.name;
        }
        return false;
      },
      timeoutMs,
    );
  }

  /** SIGKILLs one member; returns the monotonic ms of the kill. */
  async kill(name: string): Promise<number> {
    const m = this.member(name);
    const p = m.proc;
    const t = monoMs();
    m.proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return t;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
    return t;
  }

  /** Starts a killed member again on its data dir and waits until the cluster is healthy. */
  async restart(name: string): Promise<void> {
    const m = this.member(name);
    if (this.alive(m)) await this.kill(name);
    this.launch(m);
    await this.waitHealthy();
  }

  /** Kills every member and removes their namespaces (Lab.cleanup would too; this is the tidy path). */
  async stop(): Promise<void> {
    for (const m of this.members) await this.kill(m.name);
    for (const m of this.members) await removeNamespace(m.ns);
  }
}
