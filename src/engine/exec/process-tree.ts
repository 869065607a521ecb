import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRunningState, listProcesses, type ProcEntry, parseStat, readCmdline } from './proc-table.js';

/**
 * Finding and ending process trees. A command runs as the leader of its own process group
 * (spawned detached), so `kill(-pgid)` reaches everything that stayed in the group; children
 * that moved to another group (setsid, job control in a nested shell) are found by walking
 * the parent links of the process table. Processes that both left the group and were
 * re-parented to init before we looked cannot be found this way (that needs cgroups).
 */

/** True while the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const entry = parseStat(readFileSync(`/proc/${pid}/stat`, 'latin1'));
    return entry === undefined || isRunningState(entry.state);
  } catch {
    return false;
  }
}

/** `pid`, its descendants and (when it leads a process group) the members of its group. */
function treeOf(roots: Iterable<number>, table: ProcEntry[], pgid?: number): ProcEntry[] {
  const children = new Map<number, ProcEntry[]>();
  const byPid = new Map<number, ProcEntry>();
  for (const entry of table) {
    byPid.set(entry.pid, entry);
    const list = children.get(entry.ppid);
    if (list) list.push(entry);
    else children.set(entry.ppid, [entry]);
  }
  const found = new Map<number, ProcEntry>();
  const queue: number[] = [];
  const visit = (entry: ProcEntry | undefined) => {
    if (!entry || found.has(entry.pid) || !isRunningState(entry.state)) return;
    found.set(entry.pid, entry);
    queue.push(entry.pid);
  };
  for (const root of roots) visit(byPid.get(root));
  if (pgid !== undefined) for (const entry of table) if (entry.pgrp === pgid) visit(entry);
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const child of children.get(next) ?? []) visit(child);
  }
  return [...found.values()];
}

/** The live PIDs of the tree rooted at `pid` (itself first if alive, descendants, group members). */
export async function processTreePids(pid: number): Promise<number[]> {
  const tree = treeOf([pid], await listProcesses(), pid);
  return tree.map((entry) => entry.pid);
}

function signalQuietly(target: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal` once to the process group `pid` and every live process of its tree; returns those signalled. */
export async function killTree(pid: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<number[]> {
  const tree = treeOf([pid], await listProcesses(), pid);
  signalQuietly(-pid, signal);
  return tree.filter((entry) => signalQuietly(entry.pid, signal)).map((entry) => entry.pid);
}

export interface TerminateOptions {
  /** First signal; default SIGTERM. */
  signal?: NodeJS.Signals;
  /** Time the tree gets to exit after the first signal before SIGKILL. */
  graceMs: number;
  /** Aborting skips the rest of the grace and sends SIGKILL at once. */
  hurry?: AbortSignal;
  /**
   * Whether `pid` itself (and its descendants) counts; default true. False once the leader has
   * exited and been reaped: its PID may be reused, only its group id still names the leftovers.
   */
  includeRoot?: boolean;
  /** How long to wait for the tree to vanish after SIGKILL; default 5 s. */
  killWaitMs?: number;
  pollMs?: number;
}

export interface TerminateResult {
  /** SIGKILL was needed. */
  escalated: boolean;
  /** PIDs still alive at the end (only when even SIGKILL did not finish them in killWaitMs). */
  remaining: number[];
}

/**
 * Ends the tree of `pid`: `signal` to the group and every member, then SIGKILL after
 * `graceMs`. Processes seen once are tracked (by PID and start time) even after their parent
 * dies and they are re-parented, so a dead leader does not hide its children.
 */
export async function terminateTree(pid: number, options: TerminateOptions): Promise<TerminateResult> {
  const first = options.signal ?? 'SIGTERM';
  const pollMs = options.pollMs ?? 25;
  const tracked = new Map<number, string>();
  // The root counts only in the first look; later it is tracked by start time like the rest,
  // so a recycled PID is never mistaken for it.
  let firstLook = options.includeRoot ?? true;

  /** Refreshes the tracked set from the process table; returns the live ones and signals newcomers. */
  const refresh = async (signalNew: NodeJS.Signals): Promise<number[]> => {
    const table = await listProcesses();
    const byPid = new Map(table.map((entry) => [entry.pid, entry]));
    const liveRoots: number[] = [];
    for (const [trackedPid, startTime] of tracked) {
      const entry = byPid.get(trackedPid);
      if (entry && entry.startTime === startTime && isRunningState(entry.state)) liveRoots.push(trackedPid);
      else tracked.delete(trackedPid);
    }
    const roots = firstLook ? [pid] : liveRoots;
    firstLook = false;
    for (const entry of treeOf(roots, table, pid)) {
      if (!tracked.has(entry.pid)) {
        tracked.set(entry.pid, entry.startTime);
        signalQuietly(entry.pid, signalNew);
      }
    }
    return [...tracked.keys()];
  };
  const signalAll = (signal: NodeJS.Signals) => {
    signalQuietly(-pid, signal);
    for (const trackedPid of tracked.keys()) signalQuietly(trackedPid, signal);
  };
  const waitGone = async (deadline: number, stopEarly?: AbortSignal, signalNew: NodeJS.Signals = first) => {
    for (;;) {
      const live = await refresh(signalNew);
      if (live.length === 0) return true;
      if (Date.now() >= deadline || stopEarly?.aborted) return false;
      await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
    }
  };

  await refresh(first);
  signalAll(first);
  if (first !== 'SIGKILL' && (await waitGone(Date.now() + options.graceMs, options.hurry))) {
    return { escalated: false, remaining: [] };
  }
  signalAll('SIGKILL');
  const gone = await waitGone(Date.now() + (options.killWaitMs ?? 5000), undefined, 'SIGKILL');
  return { escalated: first !== 'SIGKILL', remaining: gone ? [] : [...tracked.keys()] };
}

export interface FoundProcess {
  pid: number;
  cmdline: string;
}

/** Live processes whose command line (/proc/PID/cmdline, arguments joined by spaces) matches `pattern`. */
export async function findProcesses(pattern: RegExp): Promise<FoundProcess[]> {
  const table = await listProcesses();
  const found: FoundProcess[] = [];
  await Promise.all(
    table.map(async (entry) => {
      if (entry.pid === process.pid || !isRunningState(entry.state)) return;
      const cmdline = await readCmdline(entry.pid);
      if (!cmdline) return;
      pattern.lastIndex = 0;
      if (pattern.test(cmdline)) found.push({ pid: entry.pid, cmdline });
    }),
  );
  return found.sort((a, b) => a.pid - b.pid);
}
