import { execFileSync } from 'node:child_process';

/**
 * Supervised programs die with the node's fencing even when nothing is left to fence them.
 * The agent and its deadman helper both hold the lifeline FIFO open for writing (see
 * coordination/deadman/lifeline.ts); each supervised program is started by a small wrapper
 * that forks a *watcher* into the program's own process group and then execs the program
 * (same PID, still the group leader). The watcher blocks reading the lifeline on fd 3; the
 * read returns only when no writer is left, i.e. both the agent and the helper are gone, and
 * the watcher then SIGKILLs the whole group, itself included:
 *
 *   sh -c '( exec env --default-signal=INT,QUIT sh -c "read -r line <&3; kill -9 0" ) &
 *          exec "$@" 3<&-' halo-lifeline <program argv…>
 *
 * - The watcher is a `sh` of about 1 MB with its own command line, so looking for the
 *   program by its command line does not count it; the program gets no fd 3.
 * - A non-interactive shell starts background jobs with SIGINT and SIGQUIT ignored, and a
 *   shell cannot undo that; `env --default-signal` restores them, so a stop with any of the
 *   configured stop signals ends the watcher with the program instead of waiting for SIGKILL
 *   (only a stop in the first milliseconds, before the watcher has exec'd, waits for it).
 * - What leaves the process group (setsid, a double-forking daemon) escapes the watcher, as it
 *   escapes the helper's `kill-tree`.
 */

let lifelineFd: number | null = null;
let envPrefix: string | undefined;

/** The agent hands over the lifeline's read end (or null to stop wrapping new programs). */
export function useLifeline(fd: number | null): void {
  lifelineFd = fd;
}

/** The fd to pass as the child's fd 3, or null when no lifeline is in use. */
export function lifelineFd3(): number | null {
  return lifelineFd;
}

/** `argv` wrapped so a watcher of fd 3 runs in its process group (see above). */
export function watchedArgv(argv: readonly string[]): string[] {
  envPrefix ??= supportsDefaultSignal() ? '/usr/bin/env --default-signal=INT,QUIT ' : '';
  const watch = `( exec ${envPrefix}/bin/sh -c 'read -r line <&3; kill -9 0' halo-lifeline-watch ) </dev/null >/dev/null 2>&1 &`;
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
