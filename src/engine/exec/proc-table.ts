import { readdir, readFile } from 'node:fs/promises';

/**
 * A row of the kernel's process table, read from /proc/PID/stat (proc(5)). `startTime` (clock
 * ticks since boot) tells a process apart from a later one that reuses its PID.
 */
export interface ProcEntry {
  pid: number;
  ppid: number;
  pgrp: number;
  /** One-letter state: R, S, D, Z (zombie), T (stopped), X (dead), … */
  state: string;
  startTime: string;
}

/** Parses one /proc/PID/stat line; `comm` may hold spaces and parentheses, so split after the last ')'. */
export function parseStat(text: string): ProcEntry | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  // Fields after comm start at field 3 (state); starttime is field 22.
  const rest = text.slice(close + 2).split(' ');
  const [state, ppid, pgrp] = rest;
  const startTime = rest[19];
  if (state === undefined || ppid === undefined || pgrp === undefined || startTime === undefined)
    return undefined;
  return { pid, ppid: Number(ppid), pgrp: Number(pgrp), state, startTime };
}

/**
 * /proc files read at once by this process, at most. A thousand groups stopping together each
 * scan the process table; unbounded, their reads ran the agent out of file descriptors
 * (EMFILE), and a read that fails that way must not pass for a process that exited.
 */
const MAX_PROC_READS = 64;
let procReads = 0;
const waitingForRead: Array<() => void> = [];

async function withReadSlot<T>(read: () => Promise<T>): Promise<T> {
  if (procReads >= MAX_PROC_READS) await new Promise<void>((resolve) => waitingForRead.push(resolve));
  procReads++;
  try {
    return await read();
  } finally {
    procReads--;
    waitingForRead.shift()?.();
  }
}

/** The process's entry, or undefined when it has exited (any other error is thrown). */
export async function readProcEntry(pid: number): Promise<ProcEntry | undefined> {
  try {
    return parseStat(await withReadSlot(() => readFile(`/proc/${pid}/stat`, 'latin1')));
  } catch (err) {
    if (isGone(err)) return undefined;
    throw err;
  }
}

/** The process exited (or was reaped) while we looked. */
function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ESRCH';
}

export async function listPids(): Promise<number[]> {
  const names = await withReadSlot(() => readdir('/proc'));
  const pids: number[] = [];
  for (const name of names) {
    if (/^\d+$/.test(name)) pids.push(Number(name));
  }
  return pids;
}

/** A snapshot of every process; processes that exit while it is taken are simply missing. */
export async function listProcesses(): Promise<ProcEntry[]> {
  const entries = await Promise.all((await listPids()).map((pid) => readProcEntry(pid)));
  return entries.filter((entry): entry is ProcEntry => entry !== undefined);
}

/** Zombies (exited, not yet reaped) count as gone: they run no code and hold no resources. */
export function isRunningState(state: string): boolean {
  return state !== 'Z' && state !== 'X' && state !== 'x';
}

export async function readCmdline(pid: number): Promise<string | undefined> {
  try {
    const raw = await withReadSlot(() => readFile(`/proc/${pid}/cmdline`, 'utf8'));
    // Arguments are NUL-separated (with a trailing NUL); kernel threads have none.
    return raw.replace(/\0+$/, '').replaceAll('\0', ' ');
  } catch {
    return undefined;
  }
}
