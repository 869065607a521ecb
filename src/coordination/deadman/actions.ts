import { execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { baseEnv } from '../../util/command-env.js';
import type { FenceAction } from './fence-action.js';
import { monoNowMs } from './protocol.js';

/**
 * Executing and confirming fence actions in the deadman helper. "Confirmed" means the effect
 * was observed, not merely attempted: when only the agent died, the helper releases the lease
 * early (so the standby need not wait it out) only on that basis.
 */

export interface ActionOutcome {
  kind: FenceAction['kind'];
  confirmed: boolean;
  detail: string;
}

export interface ExecuteOptions {
  /** SIGKILL a process group that ignored its first signal no later than this (monotonic ms). */
  killByMonoMs: number;
  /** How long to wait for a SIGKILLed group to disappear before giving up. */
  vanishTimeoutMs?: number;
}

/** Runs actions in the given order (the agent lists them in stop order); all run even if one fails. */
export async function executeActions(
  actions: readonly FenceAction[],
  opts: ExecuteOptions,
): Promise<{ confirmed: boolean; outcomes: ActionOutcome[] }> {
  const outcomes: ActionOutcome[] = [];
  for (const action of actions) {
    let outcome: ActionOutcome;
    try {
      outcome = await executeAction(action, opts);
    } catch (err) {
      outcome = { kind: action.kind, confirmed: false, detail: `failed: ${(err as Error).message}` };
    }
    outcomes.push(outcome);
  }
  return { confirmed: outcomes.every((o) => o.confirmed), outcomes };
}

export function executeAction(action: FenceAction, opts: ExecuteOptions): Promise<ActionOutcome> {
  switch (action.kind) {
    case 'kill-tree':
      return killTree(action.pid, action.signal ?? 'SIGTERM', opts);
    case 'run':
      return runCommand(action.argv, action.env, action.cwd, action.timeoutMs);
    case 'ip-del':
      return ipDel(action.address, action.prefix, action.dev, action.netns);
  }
}

/**
 * True while the process group has a live (non-zombie) member. kill(-pgid, 0) also succeeds
 * for zombies, and a killed resource whose parent (the agent) died may stay a zombie when
 * PID 1 does not reap, so a positive answer is checked against /proc.
 */
export function processGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
  const live = liveProcessGroups();
  return live === null || live.has(pgid);
}

let scan: Set<number> | null | undefined;

/**
 * The process groups with a live member, read from /proc once per turn of the event loop:
 * a deadline fences many groups at once, and a scan of /proc each would hold up the next
 * group's fence. Null when /proc cannot be read.
 */
function liveProcessGroups(): Set<number> | null {
  if (scan !== undefined) return scan;
  scan = readLiveProcessGroups();
  setImmediate(() => {
    scan = undefined;
  });
  return scan;
}

function readLiveProcessGroups(): Set<number> | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  const live = new Set<number>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the command name, which is in parentheses and may contain spaces.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = rest[0];
    if (state !== 'Z' && state !== 'X') live.add(Number(rest[2]));
  }
  return live;
}

async function killTree(pgid: number, first: NodeJS.Signals, opts: ExecuteOptions): Promise<ActionOutcome> {
  // kill(-1) or kill(-0) would signal every process we may signal, or our own group.
  if (!Number.isSafeInteger(pgid) || pgid <= 1) {
    return { kind: 'kill-tree', confirmed: false, detail: `refusing to kill process group ${pgid}` };
  }
  if (!signalGroup(pgid, first)) return { kind: 'kill-tree', confirmed: true, detail: 'already gone' };
  // Every check waits a little first: the other groups fenced at the same deadline get their
  // signals before this one's /proc scan, and a killed group needs a moment to disappear.
  while (monoNowMs() < opts.killByMonoMs) {
    await sleep(Math.min(10, Math.max(1, opts.killByMonoMs - monoNowMs())));
    if (!processGroupAlive(pgid))
      return { kind: 'kill-tree', confirmed: true, detail: `gone after ${first}` };
  }
  signalGroup(pgid, 'SIGKILL');
  const giveUpAt = monoNowMs() + (opts.vanishTimeoutMs ?? 2000);
  let pause = 1;
  while (monoNowMs() < giveUpAt) {
    await sleep(pause);
    pause = 10;
    if (!processGroupAlive(pgid)) return { kind: 'kill-tree', confirmed: true, detail: 'gone after SIGKILL' };
  }
  return { kind: 'kill-tree', confirmed: false, detail: 'process group still present after SIGKILL' };
}

/** Sends a signal to a group; false when the group does not exist. */
function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    // EPERM: it exists but we may not signal it; the confirmation loop will say so.
    return true;
  }
}

function runCommand(
  argv: readonly string[],
  env: Record<string, string> | undefined,
  cwd: string | undefined,
  timeoutMs: number,
): Promise<ActionOutcome> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.resolve({ kind: 'run', confirmed: false, detail: 'empty argv' });
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      // The same clean environment the agent gives the command (src/util/command-env.ts).
      env: { ...baseEnv(), ...env },
      cwd,
      stdio: 'ignore',
      // Its own group, so a timeout kills whatever it started too.
      detached: true,
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ kind: 'run', confirmed: false, detail: `cannot run ${file}: ${err.message}` });
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const detail = timedOut ? `timed out after ${timeoutMs}ms` : `exit ${code ?? signal}`;
      resolve({ kind: 'run', confirmed: code === 0 && !timedOut, detail });
    });
  });
}

async function ipDel(address: string, prefix: number, dev: string, netns?: string): Promise<ActionOutcome> {
  const ns = netns ? ['-n', netns] : [];
  const del = await execIp([...ns, 'addr', 'del', `${address}/${prefix}`, 'dev', dev]);
  const show = await execIp([...ns, '-o', 'addr', 'show', 'dev', dev]);
  if (show.code !== 0) {
    // No such device (or namespace): the address cannot be there either.
    const gone = /does not exist|Cannot find device|No such file/i.test(show.stderr);
    return {
      kind: 'ip-del',
      confirmed: gone,
      detail: `address check failed: ${show.stderr.trim().slice(0, 200)}`,
    };
  }
  const present = show.stdout
    .split('\n')
    .some((line) =>
      line.split(/\s+/).some((tok) => tok.toLowerCase() === `${address}/${prefix}`.toLowerCase()),
    );
  const detail = present ? `still present (del: ${del.stderr.trim().slice(0, 200)})` : 'absent';
  return { kind: 'ip-del', confirmed: !present, detail };
}

function execIp(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('ip', args, { timeout: 5000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr || (err ? err.message : '')) });
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
