import type { SpawnOptions } from 'node:child_process';

/**
 * Lines between the agent and its launcher process (launcher.ts, launcher-main.ts), one JSON
 * object each. Output travels base64-encoded: a command may write any bytes.
 */
export type LaunchOptions = Pick<SpawnOptions, 'env' | 'cwd' | 'uid' | 'gid' | 'detached'>;

export type ToLauncher = { t: 'run'; id: number; file: string; args: string[]; options: LaunchOptions };

export type FromLauncher =
  | { t: 'pid'; id: number; pid: number }
  /** Output; `e` is set for stderr (stdout otherwise). */
  | { t: 'out'; id: number; d: string; e?: 1 }
  /** Could not start: the spawn error's message and errno code. */
  | { t: 'error'; id: number; message: string; code?: string }
  /** Exited, and its pipes were drained (or given up on after a short wait). */
  | { t: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null };

export type OutputStream = 'stdout' | 'stderr';

/** Receives a command's output as it arrives, with the stream it came on. */
export type OutputSink = (chunk: Buffer, stream: OutputStream) => void;

/** How a launched command ended. */
export interface LaunchOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** It could not be started (errno in `code`), or the launcher died while it ran. */
  error?: NodeJS.ErrnoException;
}

export interface Launched {
  /** The command's PID once it started (undefined if it never did). */
  pid: Promise<number | undefined>;
  outcome: Promise<LaunchOutcome>;
}
