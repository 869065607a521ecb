import type { ParseArgsConfig } from 'node:util';

/**
 * A CLI command is a plain object: its words, its options and a `run`. The frame in
 * run-cli.ts parses arguments, prints help, and maps errors to exit codes:
 * 0 success, 1 operational failure, 2 bad usage or bad input.
 */
export type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & {
  description: string;
  valueName?: string;
};

export interface CommandContext {
  /** Parsed option values (strings/booleans, arrays for `multiple`). */
  options: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM for long-running commands. */
  signal: AbortSignal;
}

export interface Command {
  /** Words after `halo`, e.g. ['config', 'validate']. */
  words: string[];
  summary: string;
  /** Positional arguments as shown in usage, e.g. 'FILE' or 'GROUP [NODE]'. */
  args?: string;
  /** Minimum and maximum number of positionals. */
  arity?: [number, number];
  options?: Record<string, OptionSpec>;
  /** Longer help text shown under the usage line. */
  details?: string;
  run(ctx: CommandContext): Promise<number | undefined> | number | undefined;
}
