import { execFile, execFileSync } from 'node:child_process';

/**
 * Running the lab's host tools (ip, nft, tc). The lab is test infrastructure: a failing
 * command is a bug in the lab or a missing tool, so `run` throws with the command line and
 * its stderr unless the caller says failure is expected.
 */

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class LabError extends Error {
  override name = 'LabError';
}

export function run(
  argv: readonly string[],
  opts: { allowFail?: boolean; timeoutMs?: number; input?: string } = {},
): Promise<ExecResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new LabError('empty command'));
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { timeout: opts.timeoutMs ?? 10_000, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        const result = { code, stdout, stderr: stderr || (err ? err.message : '') };
        if (code !== 0 && !opts.allowFail)
          reject(new LabError(`${argv.join(' ')} failed (exit ${code}): ${result.stderr.trim()}`));
        else resolve(result);
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** For exit and signal handlers, where nothing asynchronous will run any more. */
export function runSync(argv: readonly string[]): ExecResult {
  const [file, ...args] = argv;
  try {
    const stdout = execFileSync(file ?? 'false', args, {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { code: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string; message: string };
    return { code: e.status ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? e.message };
  }
}

/** Which of the lab's tools are missing from PATH (empty when all are there). */
export function missingTools(tools: readonly string[]): string[] {
  return tools.filter((tool) => runSync(['sh', '-c', `command -v ${tool}`]).code !== 0);
}
