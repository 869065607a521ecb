import { execFileSync } from 'node:child_process';
import { closeSync, lstatSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The lifeline: a named pipe (FIFO) in the state dir that the agent and its deadman helper
 * both hold open for writing, and that every supervised resource process watches for reading.
 * Nobody ever writes to it. A read on a FIFO returns end-of-file only once *no* process holds
 * it open for writing, so the watchers wake exactly when both the agent and the helper are
 * gone — killed together, or one after the other before the agent could restart the helper —
 * and then SIGKILL their own process group. That closes the one gap the helper cannot cover
 * (it is itself dead), without any process having to survive: the kernel closes a killed
 * process's descriptors. While either one lives nothing happens: the helper fences a dead
 * agent's groups itself (with the stop signal and a grace), and the agent restarts a dead
 * helper at once.
 *
 * Why a FIFO and not a pipe or PR_SET_PDEATHSIG: the helper is a separate process spawned
 * later, so it cannot inherit an anonymous pipe's write end from the agent's resources; it
 * opens the FIFO by name instead. A parent-death signal would reach only the direct child of
 * the agent, not the rest of the process tree, and not when the helper still could fence.
 */

export const LIFELINE_FILE = 'deadman.lifeline';

export function lifelinePath(stateDir: string): string {
  return join(stateDir, LIFELINE_FILE);
}

export interface Lifeline {
  path: string;
  /** Held for writing (O_RDWR, which never blocks on a FIFO) for the life of the process. */
  writeFd: number;
  /** A read end, handed to every supervised resource as fd 3 for its watcher. */
  readFd: number;
  close(): void;
}

/** Creates the FIFO if needed and opens both ends; throws when the file system has no FIFOs. */
export function openLifeline(path: string): Lifeline {
  let isFifo = false;
  try {
    isFifo = lstatSync(path).isFIFO();
    if (!isFifo) rmSync(path, { force: true });
  } catch {
    // Absent: created below.
  }
  // Node has no mkfifo(3); coreutils' mkfifo is everywhere Halo runs.
  if (!isFifo) execFileSync('mkfifo', ['-m', '600', path], { stdio: 'ignore' });
  // Write end first: opening a FIFO read-only blocks until a writer exists.
  const writeFd = openSync(path, 'r+');
  const readFd = openSync(path, 'r');
  let closed = false;
  return {
    path,
    writeFd,
    readFd,
    close() {
      if (closed) return;
      closed = true;
      closeSync(readFd);
      closeSync(writeFd);
    },
  };
}

/** The helper's hold on the lifeline: its write end only (null when there is none to hold). */
export function holdLifeline(path: string): number | null {
  try {
    if (!lstatSync(path).isFIFO()) return null;
    return openSync(path, 'r+');
  } catch {
    return null;
  }
}
