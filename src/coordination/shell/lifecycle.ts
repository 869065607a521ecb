/**
 * Where a coordinator is in its life. Transitions only go forward:
 * idle → starting → running → stopping → stopped (a failed start goes straight to stopped).
 */
export type Lifecycle =
  /** Constructed; `start()` was not called yet. */
  | 'idle'
  /** `start()` is connecting, reading state and spawning the deadman helper; no timers yet. */
  | 'starting'
  /** Serving: timers run, background work may be started, events flow to listeners. */
  | 'running'
  /** `stop()` began: timers are cancelled, no new work starts, work in flight is awaited. */
  | 'stopping'
  /** Everything is released (or start failed); a stopped coordinator is not restarted. */
  | 'stopped';

const NEXT: Readonly<Record<Lifecycle, readonly Lifecycle[]>> = {
  idle: ['starting', 'stopped'],
  starting: ['running', 'stopped', 'stopping'],
  running: ['stopping'],
  stopping: ['stopped'],
  stopped: [],
};

export function canMove(from: Lifecycle, to: Lifecycle): boolean {
  return NEXT[from].includes(to);
}
