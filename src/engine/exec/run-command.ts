import { launch } from './launcher.js';
import { OutputTail } from './output-tail.js';
import { terminateTree } from './process-tree.js';
import { buildSpawn, type Command, explainSpawnError } from './spawn-spec.js';

export interface RunOptions {
  env?: Record<string, string> | undefined;
  cwd?: string | undefined;
  /** Run as this user (name or uid); needs root unless it is the current user. */
  user?: string | undefined;
  /** Aborting ends the command's whole process tree. */
  signal?: AbortSignal | undefined;
  /** Ends the command's whole process tree after this long; unlimited when absent. */
  timeoutMs?: number | undefined;
  /** Time between SIGTERM and SIGKILL when the tree is ended; default 2 s. */
  killGraceMs?: number | undefined;
  /** Output kept (the tail); default 64 KiB. */
  maxOutputBytes?: number | undefined;
}

export interface RunResult {
  /** Exit code, or null when killed by a signal or never started. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr interleaved in arrival order; the tail when longer than the cap. */
  output: string;
  timedOut: boolean;
  aborted: boolean;
  /** Set when the command could not be started (no such file, not executable, bad cwd). */
  spawnError?: string;
  pid?: number;
  durationMs: number;
}

/**
 * Runs one command to completion. On timeout or abort the whole tree is ended (SIGTERM to the
 * group and every descendant, SIGKILL after the grace) and the result comes only once it is
 * gone. A command that exits normally may leave daemons behind on purpose (a start script);
 * those are left alone, and their inherited pipes are drained but no longer captured.
 */
export async function runCommand(cmd: Command, options: RunOptions = {}): Promise<RunResult> {
  const startedAt = Date.now();
  const elapsed = () => Date.now() - startedAt;
  if (options.signal?.aborted) {
    return { code: null, signal: null, output: '', timedOut: false, aborted: true, durationMs: 0 };
  }
  const spec = await buildSpawn(cmd, options);
  // Resolving the user may take a moment (getent); an abort meanwhile means: do not start.
  if (options.signal?.aborted) {
    return { code: null, signal: null, output: '', timedOut: false, aborted: true, durationMs: elapsed() };
  }
  const tail = new OutputTail(options.maxOutputBytes);
  const capture = (chunk: Buffer) => tail.push(chunk);
  const started = launch(spec.file, spec.args, spec.options, capture);

  let timedOut = false;
  let aborted = false;
  /** Settles with why the tree could not be ended (reported with the output), or null. */
  let ending: Promise<string | null> | undefined;
  const endTree = () => {
    if (ending) return;
    ending = started.pid
      .then(async (pid) => {
        if (pid !== undefined)
          await terminateTree(pid, { signal: 'SIGTERM', graceMs: options.killGraceMs ?? 2000 });
        return null;
      })
      // Caught here, not left to reject unawaited while the command runs (that ended the agent).
      .catch((err: Error) => `could not end the command's process tree: ${err.message}`);
  };
  const onAbort = () => {
    aborted = true;
    endTree();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          endTree();
        }, options.timeoutMs);

  const outcome = await started.outcome;
  clearTimeout(timer);
  options.signal?.removeEventListener('abort', onAbort);
  const endFailure = ending ? await ending : null;
  const pid = await started.pid;

  const result: RunResult = {
    code: outcome.code,
    signal: outcome.signal,
    output: tail.text(),
    timedOut,
    aborted,
    durationMs: elapsed(),
  };
  if (pid !== undefined) result.pid = pid;
  if (endFailure)
    result.output = `${result.output}${result.output && !result.output.endsWith('\n') ? '\n' : ''}${endFailure}\n`;
  if (outcome.error) {
    const errno = (outcome.error as NodeJS.ErrnoException).code;
    result.spawnError = explainSpawnError(outcome.error, spec);
    // Same codes the shell uses: 127 not found, 126 found but not runnable.
    result.code = errno === 'ENOENT' ? 127 : 126;
    result.output = result.output + result.spawnError;
  }
  return result;
}
