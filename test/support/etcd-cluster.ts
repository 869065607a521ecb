import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Etcd3 } from 'etcd3';
import { stringify } from 'yaml';
import { freePort, killTagged, TAG_VAR } from './ports-and-processes.js';

/**
 * A real 3-member etcd cluster on loopback for integration tests: free ports, temp data
 * dirs, short election timeouts. Every member is killed (after SIGCONT, in case a test froze
 * it) and the data dirs removed when the test ends, also on failure. Plus {@link TcpProxy},
 * which lets a test cut one client off from etcd without touching etcd itself.
 */

export const ETCD_BIN = process.env['HALO_ETCD_BIN'] ?? '/usr/bin/etcd';

export function etcdAvailable(): boolean {
  return existsSync(ETCD_BIN);
}

export interface EtcdMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  proc: ChildProcess | undefined;
  log: string;
}

export interface EtcdCluster {
  members: EtcdMember[];
  endpoints: string[];
  /** Name of the current leader (asks every reachable member). */
  leader(): Promise<string>;
  kill(name: string): Promise<void>;
  /** Starts a killed member again with its data dir. */
  restart(name: string): Promise<void>;
  freeze(name: string): void;
  thaw(name: string): void;
  /** Resolves once a majority answers a linearizable read. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export const freeTcpPort = freePort;

export async function startEtcdCluster(t: TestContext, size = 3): Promise<EtcdCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'halo-etcd-'));
  const members: EtcdMember[] = [];
  for (let i = 1; i <= size; i++) {
    members.push({
      name: `e${i}`,
      clientUrl: `http://127.0.0.1:${await freeTcpPort()}`,
      peerUrl: `http://127.0.0.1:${await freeTcpPort()}`,
      proc: undefined,
      log: '',
    });
  }
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  const launch = (m: EtcdMember) => {
    const child = spawn(
      ETCD_BIN,
      [
        '--name',
        m.name,
        '--data-dir',
        join(dir, m.name),
        '--listen-client-urls',
        m.clientUrl,
        '--advertise-client-urls',
        m.clientUrl,
        '--listen-peer-urls',
        m.peerUrl,
        '--initial-advertise-peer-urls',
        m.peerUrl,
        '--initial-cluster',
        initialCluster,
        '--initial-cluster-state',
        'new',
        '--initial-cluster-token',
        `halo-test-${process.pid}`,
        '--heartbeat-interval',
        '50',
        '--election-timeout',
        '500',
        '--logger',
        'zap',
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    m.log = '';
    const append = (b: Buffer) => {
      m.log = (m.log + b.toString()).slice(-20_000);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    m.proc = child;
  };
  const byName = (name: string) => {
    const m = members.find((x) => x.name === name);
    if (!m) throw new Error(`no etcd member ${name}`);
    return m;
  };
  const stopProc = async (m: EtcdMember) => {
    const p = m.proc;
    m.proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGCONT');
    p.kill('SIGKILL');
    await exited;
  };
  const cluster: EtcdCluster = {
    members,
    endpoints: members.map((m) => m.clientUrl),
    async leader() {
      for (const m of members) {
        if (!m.proc) continue;
        const c = new Etcd3({ hosts: m.clientUrl, dialTimeout: 500 });
        try {
          const s = await c.maintenance.status({ deadline: Date.now() + 500 });
          const leaderId = s.leader;
          const list = await c.cluster.memberList({}, { deadline: Date.now() + 500 });
          const leader = list.members.find((x) => x.ID === leaderId);
          if (leader && leaderId !== '0') return leader.name;
        } catch {
          // try the next member
        } finally {
          c.close();
        }
      }
      throw new Error('no etcd member knows a leader');
    },
    kill: (name) => stopProc(byName(name)),
    async restart(name) {
      const m = byName(name);
      await stopProc(m);
      launch(m);
    },
    freeze(name) {
      byName(name).proc?.kill('SIGSTOP');
    },
    thaw(name) {
      byName(name).proc?.kill('SIGCONT');
    },
    async waitHealthy(timeoutMs = 15_000) {
      const c = new Etcd3({ hosts: cluster.endpoints, dialTimeout: 500 });
      const until = Date.now() + timeoutMs;
      try {
        for (;;) {
          try {
            await c.get('/halo-test-health').options({ deadline: Date.now() + 500 });
            return;
          } catch (err) {
            if (Date.now() > until)
              throw new Error(
                `etcd not healthy: ${(err as Error).message}\n${members.map((m) => `${m.name}: ${m.log}`).join('\n')}`,
              );
            await sleep(100);
          }
        }
      } finally {
        c.close();
      }
    },
    async close() {
      await Promise.all(members.map(stopProc));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  t.after(() => cluster.close());
  for (const m of members) launch(m);
  await cluster.waitHealthy();
  return cluster;
}

/**
 * A TCP forwarder in front of one etcd member. `cut()` drops every connection's traffic from
 * then on (nothing is closed, like a partition: calls hang until their deadline) and holds new
 * connections open without forwarding; `heal()` forwards again (new connections only).
 */
export class TcpProxy {
  private readonly target: { host: string; port: number };
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private cutOff = false;
  url = '';

  constructor(targetUrl: string) {
    const u = new URL(targetUrl);
    this.target = { host: u.hostname, port: Number(u.port) };
  }

  async start(): Promise<void> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  cut(): void {
    this.cutOff = true;
    // Existing streams go silent; destroying them would tell the client at once.
    for (const s of this.sockets) s.pause();
  }

  heal(): void {
    this.cutOff = false;
    // The silent connections are dead for the client (it timed out on them): close them so it
    // reconnects through the healed proxy.
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(client: Socket): void {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => client.destroy());
    if (this.cutOff) {
      client.pause();
      return;
    }
    const upstream = new Socket();
    this.sockets.add(upstream);
    upstream.on('close', () => {
      this.sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    upstream.connect(this.target.port, this.target.host);
    client.on('data', (b: Buffer) => {
      if (!this.cutOff) upstream.write(b);
    });
    upstream.on('data', (b: Buffer) => {
      if (!this.cutOff) client.write(b);
    });
  }
}

/**
 * Halo agents (the built CLI, separate processes) configured for etcd coordination, each with
 * its own state dir. Every agent and its deadman helper (found by a tag in the environment)
 * is killed when the test ends.
 */
export interface EtcdAgents {
  dir: string;
  start(node: string): Promise<void>;
  kill(node: string, signal?: NodeJS.Signals): Promise<void>;
  events(node: string): Array<Record<string, any>>;
  logs(node: string): string;
  /** A request to `node`'s API with its own token. */
  api(node: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

export async function startEtcdAgents(
  t: TestContext,
  spec: { endpoints: string[]; nodes: string[]; groups: Record<string, unknown>; cli: string },
): Promise<EtcdAgents> {
  const dir = mkdtempSync(join(tmpdir(), 'halo-etcd-agents-'));
  const tag = randomUUID();
  const procs = new Map<string, ChildProcess>();
  const logs = new Map<string, string>();
  writeFileSync(join(dir, 'cluster.key'), randomUUID() + randomUUID(), { mode: 0o600 });
  const nodes: Record<string, unknown> = {};
  for (const n of spec.nodes)
    nodes[n] = { address: '127.0.0.1', peerPort: await freeTcpPort(), apiPort: await freeTcpPort() };
  const configFile = join(dir, 'halo.yaml');
  writeFileSync(
    configFile,
    stringify({
      cluster: {
        name: 'it',
        secretFile: 'cluster.key',
        timing: 'default',
        coordination: { type: 'etcd', endpoints: spec.endpoints, prefix: `/halo-agents-${tag}` },
      },
      nodes,
      groups: spec.groups,
    }),
  );
  t.after(async () => {
    for (const p of procs.values()) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    killTagged(tag);
    await sleep(50);
    killTagged(tag);
    rmSync(dir, { recursive: true, force: true });
  });
  const agents: EtcdAgents = {
    dir,
    async start(node) {
      const child = spawn(
        process.execPath,
        [spec.cli, 'agent', '-c', configFile, '--node', node, '--state-dir', join(dir, `state-${node}`)],
        {
          cwd: dir,
          env: { ...process.env, [TAG_VAR]: tag, HALO_PASS_ENV: TAG_VAR },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      logs.set(node, '');
      const append = (b: Buffer) => logs.set(node, (logs.get(node) ?? '') + b.toString());
      child.stdout?.on('data', append);
      child.stderr?.on('data', append);
      procs.set(node, child);
      const until = Date.now() + 20_000;
      while (!(logs.get(node) ?? '').includes('"agent started"')) {
        if (child.exitCode !== null) throw new Error(`agent ${node} exited:\n${logs.get(node)}`);
        if (Date.now() > until) throw new Error(`agent ${node} did not start:\n${logs.get(node)}`);
        await sleep(50);
      }
    },
    async kill(node, signal = 'SIGKILL') {
      const child = procs.get(node);
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
    events(node) {
      try {
        return readFileSync(join(dir, `state-${node}`, 'events.jsonl'), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, any>);
      } catch {
        return [];
      }
    },
    logs: (node) => logs.get(node) ?? '',
    async api(node, method, path, body) {
      const port = (nodes[node] as { apiPort: number }).apiPort;
      const token = readFileSync(join(dir, `state-${node}`, 'api.token'), 'utf8').trim();
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {}
      return { status: res.status, body: parsed };
    },
  };
  return agents;
}
