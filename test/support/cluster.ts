import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { freePort, killTagged, TAG_VAR } from './ports-and-processes.js';
import { tempDir, writePrivate } from './temp-dir.js';

/**
 * A real cluster on loopback for integration tests: a witness and N agents as separate
 * processes (the built CLI), each with its own ports and state dir in a temp dir. Every
 * process it starts — including each agent's deadman helper and the programs its resources
 * run, found by a tag in the environment — is killed when the test ends, also on failure.
 * The tag's name must not start with `HALO_`: commands run by resources get the agent's
 * environment without its HALO_* variables.
 */

export const HALO_CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface ClusterSpec {
  /** cluster.name; default `it`. */
  name?: string;
  nodes: string[];
  witness?: boolean;
  timing?: string | Record<string, string>;
  groups: Record<string, unknown>;
  monitors?: Record<string, unknown>;
  /** Extra keys of cluster.api (e.g. readOnlyTokenFile: an absolute path the test wrote). */
  api?: Record<string, unknown>;
  /**
   * cluster.waitForAll. Default here 3s, not the product's 10s: many tests start one agent
   * and wait for it to own its groups before starting the next.
   */
  waitForAll?: string;
  /** The top-level alerts: section (receivers by name). */
  alerts?: Record<string, unknown>;
}

export interface RunningCluster {
  dir: string;
  configFile: string;
  ports: Record<string, { peer: number; api: number }>;
  startAgent(node: string): Promise<void>;
  startWitness(): Promise<void>;
  kill(name: string, signal?: NodeJS.Signals): Promise<void>;
  status(node: string): Promise<any>;
  api(node: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  token(node: string): string;
  events(node: string): any[];
  /** Runs the CLI against `node`'s agent; resolves with exit code and output. */
  cli(node: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  waitFor<T>(
    what: string,
    probe: () => Promise<T | undefined | false> | T | undefined | false,
    timeoutMs?: number,
  ): Promise<T>;
  logs(name: string): string;
}

export async function startCluster(t: TestContext, spec: ClusterSpec): Promise<RunningCluster> {
  const tag = randomUUID();
  const procs = new Map<string, ChildProcess>();
  // Registered first so it runs first: after-hooks run in order, and a failing one skips the rest.
  t.after(async () => {
    for (const child of procs.values())
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    killTagged(tag);
    await sleep(50);
    killTagged(tag);
  });
  const dir = tempDir(t, 'halo-cluster-');
  const logs = new Map<string, string>();
  const ports: RunningCluster['ports'] = {};
  for (const n of spec.nodes) ports[n] = { peer: await freePort(), api: await freePort() };
  const witnessPort = await freePort();
  writePrivate(join(dir, 'cluster.key'), randomUUID() + randomUUID());
  const config = {
    cluster: {
      name: spec.name ?? 'it',
      secretFile: 'cluster.key',
      timing: spec.timing ?? 'fast',
      waitForAll: spec.waitForAll ?? '3s',
      ...(spec.witness === false ? { unsafe: true } : {}),
      ...(spec.api ? { api: spec.api } : {}),
    },
    nodes: Object.fromEntries(
      spec.nodes.map((n) => [n, { address: '127.0.0.1', peerPort: ports[n]!.peer, apiPort: ports[n]!.api }]),
    ),
    ...(spec.witness === false ? {} : { witness: { address: '127.0.0.1', port: witnessPort } }),
    groups: spec.groups,
    ...(spec.monitors ? { monitors: spec.monitors } : {}),
    ...(spec.alerts ? { alerts: spec.alerts } : {}),
  };
  const configFile = join(dir, 'halo.yaml');
  writeFileSync(configFile, stringify(config));

  const launch = (name: string, args: string[]) => {
    const child = spawn(process.execPath, [HALO_CLI, ...args], {
      cwd: dir,
      env: { ...process.env, [TAG_VAR]: tag, HALO_PASS_ENV: TAG_VAR, HALO_LOG_LEVEL: 'debug' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    logs.set(name, '');
    const append = (b: Buffer) => logs.set(name, (logs.get(name) ?? '') + b.toString());
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    procs.set(name, child);
    return child;
  };

  const cluster: RunningCluster = {
    dir,
    configFile,
    ports,
    async startWitness() {
      launch('witness', ['witness', '-c', configFile]);
      await cluster.waitFor('witness started', () => logs.get('witness')?.includes('witness started'));
    },
    async startAgent(node) {
      launch(node, ['agent', '-c', configFile, '--node', node, '--state-dir', join(dir, `state-${node}`)]);
      // A generous liveness bound (a loaded CI machine right after `npm ci` can be slow); on
      // timeout the agent's last log lines say where its start got stuck.
      try {
        await cluster.waitFor(
          `agent ${node} started`,
          () => {
            const out = logs.get(node) ?? '';
            if (procs.get(node)?.exitCode !== null) throw new Error(`agent ${node} exited:\n${out}`);
            return out.includes('"agent started"');
          },
          60_000,
        );
      } catch (err) {
        const tail = (logs.get(node) ?? '').split('\n').slice(-30).join('\n');
        throw new Error(`${(err as Error).message}\n--- last log lines of ${node}:\n${tail}`);
      }
    },
    async kill(name, signal = 'SIGKILL') {
      const child = procs.get(name);
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
    token: (node) => readFileSync(join(dir, `state-${node}`, 'api.token'), 'utf8').trim(),
    async api(node, method, path, body) {
      const res = await fetch(`http://127.0.0.1:${ports[node]!.api}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${cluster.token(node)}`,
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
    async status(node) {
      const { status, body } = await cluster.api(node, 'GET', '/v1/status');
      if (status !== 200) throw new Error(`status of ${node}: HTTP ${status}`);
      return body;
    },
    events(node) {
      try {
        return readFileSync(join(dir, `state-${node}`, 'events.jsonl'), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l));
      } catch {
        return [];
      }
    },
    cli(node, args) {
      return new Promise((resolve) => {
        const child = spawn(
          process.execPath,
          [HALO_CLI, ...args, '--api', `http://127.0.0.1:${ports[node]!.api}`],
          {
            cwd: dir,
            env: { ...process.env, HALO_TOKEN: cluster.token(node) },
          },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (b) => (stdout += b));
        child.stderr.on('data', (b) => (stderr += b));
        child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
      });
    },
    async waitFor(what, probe, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      while (Date.now() < deadline) {
        try {
          const v = await probe();
          if (v !== undefined && v !== false) return v as never;
        } catch (err) {
          last = err;
          if ((err as Error).message.includes('exited:')) throw err;
        }
        await sleep(25);
      }
      throw new Error(
        `timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
      );
    },
    logs: (name) => logs.get(name) ?? '',
  };
  if (spec.witness !== false) await cluster.startWitness();
  return cluster;
}

/** Owner of `group` as seen by `node` (null if none or unreachable). */
export async function ownerSeenBy(
  cluster: RunningCluster,
  node: string,
  group: string,
): Promise<string | null> {
  const s = await cluster.status(node);
  const g = s.groups.find((x: { name: string }) => x.name === group);
  return g && g.state === 'running' ? node : (g?.owner ?? null);
}
