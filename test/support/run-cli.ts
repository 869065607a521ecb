import { commandsFor } from '../../src/cli/commands/lazy.js';
import { runCli } from '../../src/cli/run-cli.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process, as `halo ARGS…` would, capturing its output. */
export async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  // The same selection as bin `halo`: only the named command's module, else all.
  const code = await runCli(args, await commandsFor(args), {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    env,
    signal: new AbortController().signal,
  });
  return { code, stdout, stderr };
}
