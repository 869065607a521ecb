import { readFile } from 'node:fs/promises';
import { isRunningState, listProcesses, readCmdline } from '../../exec/proc-table.js';
import { haloEnv, type ResourceContext } from '../types.js';

/**
 * Copies of a `process` resource that this agent did not start: left over by an agent that
 * died (re-parented to PID 1), or started by something else in the same way. Every program
 * the resource starts carries HALO_CLUSTER, HALO_NODE, HALO_GROUP and HALO_RESOURCE in its
 * environment, and the kernel keeps a process's initial environment in /proc/PID/environ for
 * as long as it lives, so these four variables name the resource's copies on this node
 * without a pidfile. HALO_NODE matters where several nodes share one kernel (a loopback test
 * cluster): each node sees only the copies started for it.
 */

export interface StrayCopy {
  pid: number;
  pgrp: number;
  cmdline: string;
}

/** The `NAME=value` entries every copy of this resource on this node carries. */
export function markerOf(ctx: Pick<ResourceContext, 'cluster' | 'node' | 'group' | 'resource'>): string[] {
  return Object.entries(haloEnv({ ...ctx, term: '' }))
    .filter(([key]) => key !== 'HALO_TERM')
    .map(([key, value]) => `${key}=${value}`);
}

/**
 * The tops of the trees of marked processes (a marked process whose parent is not marked),
 * leaving out the process group `ownPgrp` (the copy this agent supervises) and this process.
 * Children inherit the environment, so the tops are what stopping has to end.
 */
export async function findStrayCopies(marker: readonly string[], ownPgrp?: number): Promise<StrayCopy[]> {
  const table = (await listProcesses()).filter(
    (p) => p.pid !== process.pid && isRunningState(p.state) && p.pgrp !== ownPgrp,
  );
  const marked = new Map<number, (typeof table)[number]>();
  await Promise.all(
    table.map(async (p) => {
      const env = await readEnviron(p.pid);
      if (env !== undefined && marker.every((entry) => env.includes(entry))) marked.set(p.pid, p);
    }),
  );
  const tops = [...marked.values()].filter((p) => !marked.has(p.ppid));
  const copies = await Promise.all(
    tops.map(async (p) => ({ pid: p.pid, pgrp: p.pgrp, cmdline: (await readCmdline(p.pid)) ?? '' })),
  );
  return copies.sort((a, b) => a.pid - b.pid);
}

/** One line per copy, for events and status. */
export function describeCopies(copies: readonly StrayCopy[]): string {
  return copies.map((c) => `pid ${c.pid} (process group ${c.pgrp}): ${c.cmdline}`).join('\n');
}

async function readEnviron(pid: number): Promise<string[] | undefined> {
  try {
    return (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
  } catch {
    // Gone already, or another user's process we may not read (then it is not ours either).
    return undefined;
  }
}
