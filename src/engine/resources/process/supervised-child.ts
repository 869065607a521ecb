import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { childLogger, type Logger } from '../../../log.js';
import { buildSpawn, type Command, explainSpawnError, OutputTail } from '../../exec/index.js';
import { OutputFile } from './output-file.js';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SuperviseOptions {
  env: Record<string, string>;
  cwd?: string | undefined;
  user?: string | undefined;
  log: Logger;
  /** Where the program's stdout/stderr go (not the agent's log). */
  outputFile?: string | undefined;
  /** Output kept for status and error reports; default 64 KiB. */
  maxOutputBytes?: number;
}

/**
 * One run of a long-lived program: the leader of its own process group, its output kept in a
 * ring buffer and logged line by line, its exit recorded. Ending the tree is the caller's job.
 */
export class SupervisedChild {
  readonly output: OutputTail;
  exitInfo: ExitInfo | undefined;

  private constructor(
    readonly pid: number,
    readonly exited: Promise<ExitInfo>,
    output: OutputTail,
  ) {
    this.output = output;
    void exited.then((info) => {
      this.exitInfo = info;
    });
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  /** Spawns `cmd`; rejects with the OS error when it cannot be started at all. */
  static async spawn(cmd: Command, options: SuperviseOptions): Promise<SupervisedChild> {
    // Under a lifeline watcher: the program dies even if the agent and its helper both do.
    const spec = await buildSpawn(cmd, { ...options, lifeline: true });
    const output = new OutputTail(options.maxOutputBytes);
    const child = spawn(spec.file, spec.args, {
      ...spec.options,
      stdio: ['ignore', 'pipe', 'pipe', ...spec.extraFds],
    });
    if (child.pid === undefined) {
      const error = await new Promise<Error>((resolve) => child.once('error', resolve));
      throw new Error(explainSpawnError(error, spec), { cause: error });
    }
    const pid = child.pid;
    const exited = new Promise<ExitInfo>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const log = childLogger(options.log, { pid });
    const file = options.outputFile ? new OutputFile(options.outputFile) : undefined;
    pipeLines(child.stdout, output, file);
    pipeLines(child.stderr, output, file);
    // Closed once both pipes are: output may still arrive after the exit event.
    if (file) void Promise.all([closed(child.stdout), closed(child.stderr)]).then(() => file.close());
    // Later errors (a failed kill) are not fatal: the exit event still reports the outcome.
    child.on('error', (err) => log.warn({ err: err.message }, 'process error'));
    return new SupervisedChild(pid, exited, output);
  }
}

function pipeLines(stream: Readable | null, output: OutputTail, file: OutputFile | undefined): void {
  if (!stream) return;
  stream.on('data', (chunk: Buffer) => {
    output.push(chunk);
    file?.write(chunk);
  });
}

function closed(stream: Readable | null): Promise<void> {
  return stream ? new Promise((resolve) => stream.once('close', () => resolve())) : Promise.resolve();
}
