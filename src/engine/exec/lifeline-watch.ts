import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Supervised programs die with the node's fencing even when nothing is left to fence them.
 * The agent and its deadman helper both hold the lifeline FIFO open for writing (see
 * coordination/deadman/lifeline.ts); each supervised program is started by a small wrapper
 * that forks a *watcher* into the program's own process group and then execs the program
 * (same PID, still the group leader). The watcher blocks reading the lifeline on fd 3; the
 * read returns only when no writer is left, i.e. both the agent and the helper are gone, and
 * the watcher then SIGKILLs the whole group, itself included:
 *
 *   sh -c '( exec env --default-signal=INT,QUIT sh -c "read -r line <&3; <while held: sleep
 *          1; read again>; kill -9 0" ) & exec "$@" 3<&-' halo-lifeline <program argv…>
 *
 * - The watcher is a `sh` of about 1 MB with its own command line, so looking for the
 *   program by its command line does not count it; the program gets no fd 3.
 * - A non-interactive shell starts background jobs with SIGINT and SIGQUIT ignored, and a
 *   shell cannot undo that; `env --default-signal` restores them, so a stop with any of the
 *   configured stop signals ends the watcher with the program instead of waiting for SIGKILL
 *   (only a stop in the first milliseconds, before the watcher has exec'd, waits for it).
 * - What leaves the process group (setsid, a double-forking daemon) escapes the watcher, as it
 *   escapes the helper's `kill-tree`.
 * - Maintenance mode: while the group's hold file exists (written by the engine for a group in
 *   maintenance, see `holdGroup`), a watcher woken by the lifeline spares the program and looks
 *   again a second later (the read blocks again once a new agent holds the lifeline). So an
 *   unmanaged group outlives an agent and helper killed together, or a planned agent stop.
 */

let lifelineFd: number | null = null;
let holdDir: string | null = null;
let envPrefix: string | undefined;

/** Env variable naming the watcher's hold file (set only when the program belongs to a group). */
export const HOLD_ENV = 'HALO_LIFELINE_HOLD';

/**
 * The agent hands over the lifeline's read end (or null to stop wrapping new programs), and
 * the directory of the per-group hold files (in the state dir: it outlives the agent).
 */
export function useLifeline(fd: number | null, dir: string | null = null): void {
  lifelineFd = fd;
  holdDir = dir;
  if (dir !== null) mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** The hold file of a group's watchers, or null when no lifeline is in use. */
export function holdFile(group: string): string | null {
  return holdDir === null ? null : join(holdDir, encodeURIComponent(group));
}

/** Creates (on) or removes (off) the group's hold file; a no-op without a lifeline. */
export function holdGroup(group: string, on: boolean): void {
  const file = holdFile(group);
  if (file === null) return;
  if (on) writeFileSync(file, '', { mode: 0o600 });
  else rmSync(file, { force: true });
}

/** The fd to pass as the child's fd 3, or null when no lifeline is in use. */
export function lifelineFd3(): number | null {
  return lifelineFd;
}

/** `argv` wrapped so a watcher of fd 3 runs in its process group (see above). */
export function watchedArgv(argv: readonly string[]): string[] {
  envPrefix ??= supportsDefaultSignal() ? '/usr/bin/env --default-signal=INT,QUIT ' : '';
  const watch = `( exec ${envPrefix}/bin/sh -c 'read -r line <&3; while [ -n "$${HOLD_ENV}" ] && [ -e "$${HOLD_ENV}" ]; do sleep 1; read -r line <&3; done; kill -9 0' halo-lifeline-watch ) </dev/null >/dev/null 2>&1 &`;
  return ['/bin/sh', '-c', `${watch} exec "$@" 3<&-`, 'halo-lifeline', ...argv];
}

function supportsDefaultSignal(): boolean {
  try {
    execFileSync('/usr/bin/env', ['--default-signal=INT', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
