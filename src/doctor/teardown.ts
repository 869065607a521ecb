import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { configFilesOf, type DestroyPlan } from '../agent/destroy.js';
import type { HaloConfig } from '../config/model.js';
import { HaloError, isHaloError } from '../errors.js';

/**
 * `halo destroy`: an ordered teardown (remove what depends on the cluster, then its roles,
 * then the cluster itself), so nothing is left running or half-configured behind it. Groups are stopped one at a time in
 * reverse config order through the ordinary admin intent — each node stops a group's
 * resources in reverse dependency order — and only when every node reports every group
 * stopped is each agent asked to delete its state and exit.
 */

/** What the CLI needs from the API client (an interface, so tests can fake it). */
export interface NodeApi {
  url: string;
  request<T>(method: string, path: string, body?: unknown): Promise<T>;
  stream(path: string, onEvent: (data: unknown) => void, signal: AbortSignal): Promise<void>;
}

interface StatusDoc {
  node: string;
  groups: Array<{ name: string; owner: string | null; state: string }>;
}

export interface NodeProbe {
  name: string;
  api: NodeApi;
  reachable: boolean;
  error?: string;
  status?: StatusDoc;
  plan?: DestroyPlan;
}

export interface TeardownOptions {
  yes: boolean;
  purge: boolean;
  force: boolean;
  /** How long one group may take to stop on every node. */
  stopTimeoutMs?: number;
  /** How long an agent may take to exit after the destroy request. */
  exitTimeoutMs?: number;
}

export interface TeardownIo {
  out: (text: string) => void;
}

export async function probeNodes(
  config: HaloConfig,
  apiFor: (name: string) => NodeApi,
): Promise<NodeProbe[]> {
  return Promise.all(
    config.nodes.map(async (n): Promise<NodeProbe> => {
      const api = apiFor(n.name);
      try {
        const status = await api.request<StatusDoc>('GET', '/v1/status?peers=0');
        const plan = await api.request<DestroyPlan>('GET', '/v1/agent/destroy');
        if (status.node !== n.name) {
          return { name: n.name, api, reachable: false, error: `${api.url} is the agent of ${status.node}` };
        }
        return { name: n.name, api, reachable: true, status, plan };
      } catch (err) {
        const error =
          isHaloError(err) && err.code === 'HALO_E_UNAUTHORIZED'
            ? 'the API token is not accepted there (give every node the same cluster.api.tokenFile, or pass its token)'
            : (err as Error).message;
        return { name: n.name, api, reachable: false, error };
      }
    }),
  );
}

/** Groups in the order destroy stops them, each with its resources in stop order. */
export function stopOrder(config: HaloConfig): Array<{ group: string; resources: string[] }> {
  return [...config.groups].reverse().map((g) => ({
    group: g.name,
    resources: g.resources.map((r) => r.name).reverse(),
  }));
}

export function renderPlan(config: HaloConfig, probes: NodeProbe[], opts: TeardownOptions): string {
  const lines = [`halo destroy: cluster "${config.cluster.name}" (${config.file})`, '', 'Nodes:'];
  for (const p of probes) {
    lines.push(
      `  ${p.name.padEnd(12)} ${p.api.url.padEnd(28)} ${p.reachable ? 'reachable' : `UNREACHABLE: ${p.error}`}`,
    );
  }
  const owners = new Map<string, string>();
  for (const p of probes)
    for (const g of p.status?.groups ?? [])
      if (g.state !== 'stopped') owners.set(g.name, p.name);
      else if (g.owner && !owners.has(g.name)) owners.set(g.name, g.owner);
  lines.push('', 'Plan, in this order:');
  let step = 1;
  for (const { group, resources } of stopOrder(config)) {
    const where = owners.get(group) ? `running on ${owners.get(group)}` : 'not running';
    lines.push(`  ${step++}. stop group ${group} (${where}): resources ${resources.join(', then ')}`);
  }
  lines.push(`  ${step++}. wait until every node reports every group stopped`);
  lines.push(`  ${step++}. on each node, stop the agent (and its deadman helper) and delete its state:`);
  for (const p of probes) {
    if (p.plan) {
      const entries = p.plan.stateEntries.length > 0 ? ` (${p.plan.stateEntries.join(', ')})` : '';
      lines.push(`       ${p.name}: ${p.plan.stateDir}${entries}`);
    } else lines.push(`       ${p.name}: not reachable — its agent and state stay as they are`);
  }
  const files = configFilesOf(config);
  lines.push(
    opts.purge
      ? `  ${step++}. delete the config files on every node reached and here: ${files.join(', ')}`
      : `  ${step++}. keep the config files (--purge deletes them): ${files.join(', ')}`,
  );
  if (config.witness) {
    lines.push(
      '',
      `The witness at ${config.witness.address}:${config.witness.port} is not touched (it may serve other clusters).`,
      `It keeps this cluster's admin intent (groups stopped) in memory: restart it before creating a cluster named "${config.cluster.name}" again.`,
    );
  }
  const down = probes.filter((p) => !p.reachable);
  if (down.length > 0) {
    lines.push(
      '',
      `Unreachable: ${down.map((p) => p.name).join(', ')}. destroy refuses unless --force. With --force it goes on`,
      'with the reachable nodes only. The risk: an unreachable node keeps its agent, its state and whatever it runs;',
      'if it is alive behind a network fault and owns a group, that group keeps running there, and when the node',
      'comes back it still holds the old cluster state. Stop its agent and delete its state dir by hand then.',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Runs the plan; returns the exit code. */
export async function runTeardown(
  config: HaloConfig,
  probes: NodeProbe[],
  opts: TeardownOptions,
  io: TeardownIo,
): Promise<number> {
  const live = probes.filter((p) => p.reachable);
  if (live.length === 0) {
    throw new HaloError(
      'HALO_E_AGENT_UNREACHABLE',
      'no agent of the cluster can be reached; nothing was changed',
    );
  }
  const streams = new AbortController();
  const following = live.map((p) => follow(p, streams.signal, io));
  try {
    await sleep(300); // let the streams deliver their baseline event first
    for (const { group } of stopOrder(config)) {
      io.out(`stopping group ${group}\n`);
      await live[0]!.api.request('POST', `/v1/groups/${encodeURIComponent(group)}/stop`, {});
      await waitStopped(live, group, opts.stopTimeoutMs ?? 120_000);
      io.out(`group ${group} stopped on ${live.map((p) => p.name).join(', ')}\n`);
    }
  } finally {
    streams.abort();
    await Promise.allSettled(following);
  }
  let failed = 0;
  for (const p of live) {
    try {
      await p.api.request('POST', '/v1/agent/destroy', { purge: opts.purge });
      await waitGone(p, opts.exitTimeoutMs ?? 30_000);
      io.out(`${p.name}: agent stopped, ${p.plan?.stateDir ?? 'state'} deleted\n`);
    } catch (err) {
      failed++;
      io.out(
        `${p.name}: destroy failed: ${isHaloError(err) ? `${err.code}: ${err.message}` : String(err)}\n`,
      );
    }
  }
  if (opts.purge) {
    for (const f of configFilesOf(config)) {
      if (!existsSync(f)) continue;
      await rm(f, { force: true });
      io.out(`deleted ${f}\n`);
    }
  }
  const skipped = probes.filter((p) => !p.reachable).map((p) => p.name);
  if (skipped.length > 0) io.out(`not destroyed (unreachable): ${skipped.join(', ')}\n`);
  io.out(failed === 0 && skipped.length === 0 ? 'cluster destroyed\n' : 'destroy incomplete\n');
  return failed === 0 && skipped.length === 0 ? 0 : 1;
}

/** Prints each node's group and resource events as they happen: the order is the evidence. */
async function follow(p: NodeProbe, signal: AbortSignal, io: TeardownIo): Promise<void> {
  let baseline: number | undefined;
  try {
    await p.api.stream(
      '/v1/events?history=1',
      (data) => {
        const e = data as {
          seq?: number;
          type?: string;
          group?: string;
          resource?: string;
          message?: string;
        };
        if (baseline === undefined) {
          baseline = e.seq ?? 0;
          return;
        }
        if ((e.seq ?? 0) <= baseline) return;
        if (e.type === 'resource' || e.type === 'group')
          io.out(`  ${p.name}: ${e.group ?? ''}${e.resource ? `/${e.resource}` : ''}: ${e.message ?? ''}\n`);
      },
      signal,
    );
  } catch {
    // Event output is a courtesy; the stop itself is confirmed through /v1/status.
  }
}

async function waitStopped(nodes: NodeProbe[], group: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const states = await Promise.all(
      nodes.map(async (p) => {
        const s = await p.api.request<StatusDoc>('GET', '/v1/status?peers=0');
        return `${p.name}=${s.groups.find((g) => g.name === group)?.state ?? 'unknown'}`;
      }),
    );
    last = states.join(', ');
    if (states.every((s) => s.endsWith('=stopped'))) return;
    await sleep(200);
  }
  throw new HaloError(
    'HALO_E_TIMEOUT',
    `group ${group} did not stop on every node within ${timeoutMs / 1000} s (${last}); nothing was deleted — check \`halo status\` and the events, then run destroy again`,
  );
}

async function waitGone(p: NodeProbe, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      await p.api.request('GET', '/openapi.json');
    } catch (err) {
      if (isHaloError(err) && err.code === 'HALO_E_AGENT_UNREACHABLE') return;
    }
    await sleep(100);
  }
  throw new HaloError(
    'HALO_E_TIMEOUT',
    `the agent of ${p.name} still answers ${timeoutMs / 1000} s after the destroy request`,
  );
}
