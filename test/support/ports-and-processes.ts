import { readdirSync, readFileSync } from 'node:fs';
import { freePorts } from '../../src/demo/free-ports.js';

/**
 * The two things every multi-process test needs: a loopback port nobody uses (free for TCP
 * and UDP alike, since agents use one number for both kinds of traffic in some setups), and
 * a way to find every process a test started, however deeply it was reparented.
 */

export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port as number;
}

/**
 * Environment variable that marks a test's processes. Commands run by resources get a clean
 * environment, not the agent's: the harness names it in HALO_PASS_ENV so they carry it too.
 */
export const TAG_VAR = 'HALOTEST_TAG';

/** Pids of every process whose environment carries the tag. */
export function taggedPids(tag: string): number[] {
  const needle = `${TAG_VAR}=${tag}`;
  const pids: number[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(needle)) pids.push(Number(pid));
    } catch {
      // Gone already, or not ours to read.
    }
  }
  return pids;
}

/** SIGKILL every process of the test (agents, deadman helpers, what resources started). */
export function killTagged(tag: string): void {
  for (const pid of taggedPids(tag)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Exited meanwhile.
    }
  }
}

/**
 * SIGSTOP a process and wait until every one of its threads is really stopped: the signal
 * is delivered asynchronously, and a multi-threaded server (named) may still answer a query
 * sent right after kill() returns.
 */
export async function stopProcess(pid: number, timeoutMs = 10_000): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = readdirSync(`/proc/${pid}/task`).map((tid) => {
      try {
        // Field 3 of stat, after the parenthesised command name (which may contain spaces).
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      } catch {
        return 'T';
      }
    });
    if (states.every((s) => s === 'T' || s === 't')) return;
    if (Date.now() > deadline)
      throw new Error(`pid ${pid} not stopped after ${timeoutMs} ms: ${states.join('')}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
