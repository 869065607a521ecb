/**
 * What the deadman helper must do to take a resource down when the agent cannot (agent dead,
 * or the lease deadline passed). Plain data: it crosses a pipe to the helper process. It lives
 * here, beside the helper that executes it, so that coordination never imports the engine;
 * resource types import it from here to describe how they are fenced.
 */
export type FenceAction =
  | { kind: 'kill-tree'; pid: number; signal?: NodeJS.Signals }
  | { kind: 'run'; argv: string[]; env?: Record<string, string>; cwd?: string; timeoutMs: number }
  | { kind: 'ip-del'; address: string; prefix: number; dev: string; netns?: string };
