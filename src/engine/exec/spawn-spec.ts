import type { SpawnOptions } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { baseEnv } from '../../util/command-env.js';
import { HOLD_ENV, holdFile, lifelineFd3, watchedArgv } from './lifeline-watch.js';
import { assertCanRunAs, resolveUser } from './run-as.js';

/** A command as configured: one string for `/bin/sh -c`, or an argv list run without a shell. */
export type Command = string | string[];

export interface SpawnSpecOptions {
  env?: Record<string, string> | undefined;
  cwd?: string | undefined;
  user?: string | undefined;
  /** Run under a lifeline watcher when the agent holds a lifeline (long-running programs only). */
  lifeline?: boolean | undefined;
}

export interface SpawnSpec {
  file: string;
  args: string[];
  options: SpawnOptions & { env: NodeJS.ProcessEnv };
  /** Extra descriptors for the child's stdio from fd 3 on (the lifeline's read end). */
  extraFds: number[];
}

export function commandArgv(cmd: Command): string[] {
  return typeof cmd === 'string' ? ['/bin/sh', '-c', cmd] : [...cmd];
}

/** Human-readable form for logs and error messages. */
export function describeCommand(cmd: Command): string {
  return typeof cmd === 'string'
    ? cmd
    : cmd.map((arg) => (/^[\w./:=@%+-]+$/.test(arg) ? arg : JSON.stringify(arg))).join(' ');
}

/**
 * setpriv (util-linux) switches user with initgroups(3): the user keeps its supplementary
 * groups. Node's own uid/gid spawn options call setgroups(0) and drop them (libuv).
 */
export const SETPRIV_PATHS = ['/usr/bin/setpriv', '/bin/setpriv', '/usr/sbin/setpriv', '/sbin/setpriv'];
let setprivPath: string | null | undefined;

/** Where the agent finds setpriv (`halo doctor` asks the same), null when it is not installed. */
export function findSetpriv(): string | null {
  if (setprivPath === undefined) setprivPath = SETPRIV_PATHS.find((p) => isExecutable(p)) ?? null;
  return setprivPath;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * How to spawn `cmd`: detached, so the child leads its own process group (and session) and
 * the whole tree can be signalled through its PGID.
 */
export async function buildSpawn(cmd: Command, options: SpawnSpecOptions = {}): Promise<SpawnSpec> {
  const argv = commandArgv(cmd);
  if (!argv[0]) throw new TypeError('empty command');
  const fd3 = options.lifeline ? lifelineFd3() : null;
  let [file, ...args] = fd3 === null ? argv : watchedArgv(argv);
  if (!file) throw new TypeError('empty command');
  const env: NodeJS.ProcessEnv = baseEnv();
  const spawnOptions: SpawnSpec['options'] = { env, detached: true };
  if (options.cwd !== undefined) spawnOptions.cwd = options.cwd;
  if (options.user !== undefined) {
    const ids = await resolveUser(options.user);
    if (assertCanRunAs(ids)) {
      const setpriv = findSetpriv();
      if (setpriv) {
        // setpriv execs the command in place: same pid and process group as before.
        args = [`--reuid=${ids.uid}`, `--regid=${ids.gid}`, '--init-groups', '--', file, ...args];
        file = setpriv;
      } else {
        // Without util-linux: the user's primary group only (libuv drops supplementary groups).
        spawnOptions.uid = ids.uid;
        spawnOptions.gid = ids.gid;
      }
    }
    env['HOME'] = ids.home;
    env['USER'] = ids.name;
    env['LOGNAME'] = ids.name;
  }
  Object.assign(env, options.env);
  // The watcher spares the program while its group is in maintenance (lifeline-watch.ts).
  const group = options.env?.['HALO_GROUP'];
  const hold = fd3 !== null && group !== undefined ? holdFile(group) : null;
  if (hold !== null) env[HOLD_ENV] = hold;
  return { file, args, options: spawnOptions, extraFds: fd3 === null ? [] : [fd3] };
}

/** Node reports a missing working directory as "spawn /bin/sh ENOENT"; say what is really missing. */
export function explainSpawnError(err: Error, spec: SpawnSpec): string {
  const cwd = spec.options.cwd;
  if ((err as NodeJS.ErrnoException).code === 'ENOENT' && typeof cwd === 'string') {
    try {
      if (!statSync(cwd).isDirectory()) return `working directory ${cwd} is not a directory`;
    } catch {
      return `working directory ${cwd} does not exist`;
    }
  }
  return err.message;
}
