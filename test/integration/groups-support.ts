import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ClusterSpec, type RunningCluster, startCluster } from '../support/cluster.js';

/**
 * Shared by the groups-*.test.ts integration tests: a loopback cluster whose every process —
 * agents, deadman helpers, and whatever the resources started — is killed before the temp
 * dir is removed, also when the test fails.
 */

/** True while `pid` exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

/** SIGKILLs every process working in `dir`: all of them inherit the cluster dir as cwd. */
function killProcessesIn(dir: string): number {
  let killed = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (cwd !== dir && !cwd.startsWith(`${dir}/`)) continue;
      process.kill(Number(pid), 'SIGKILL');
      killed++;
    } catch {
      // Gone already, or not ours.
    }
  }
  return killed;
}

/**
 * startCluster() with a cleanup registered first: node:test runs after-hooks in order, and the
 * harness removes its temp dir before it kills its processes (a still-writing agent can make
 * that removal fail, which would skip the kill and leave the agents running).
 */
export async function groupsCluster(t: TestContext, spec: ClusterSpec): Promise<RunningCluster> {
  let cluster: RunningCluster | undefined;
  t.after(async () => {
    if (!cluster) return;
    // Agents first, so nothing restarts what is killed next; then helpers and resources.
    for (const node of spec.nodes) await cluster.kill(node);
    for (let i = 0; i < 3 && killProcessesIn(cluster.dir) > 0; i++) await sleep(50);
  });
  cluster = await startCluster(t, spec);
  return cluster;
}

/** n1 first, until `ready` (so where groups start does not depend on load), then n2. */
export async function twoAgents(c: RunningCluster, ready: () => boolean | Promise<boolean>): Promise<void> {
  await c.startAgent('n1');
  await c.waitFor('n1 ready', ready);
  await c.startAgent('n2');
  await c.waitFor('n1 sees n2 up', async () => (await c.status('n1')).nodes[1].up);
}
