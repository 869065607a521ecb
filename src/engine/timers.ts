/**
 * The engine's only access to time. Everything that waits (monitor intervals, operation
 * timeouts, retry back-off) goes through an injected `Timers`, so tests drive time with a
 * fake and never sleep.
 */

export type Cancel = () => void;

export interface Timers {
  /** Monotonic milliseconds: for durations and deadlines. */
  now(): number;
  /** Wall-clock milliseconds since the epoch: for event timestamps only. */
  wallNow(): number;
  setTimeout(fn: () => void, ms: number): Cancel;
}

export const realTimers: Timers = {
  now: () => Number(process.hrtime.bigint()) / 1e6,
  wallNow: () => Date.now(),
  setTimeout: (fn, ms) => {
    const handle = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(handle);
  },
};

/**
 * How an operation ended, kept apart from what it returned (Pacemaker's execution status vs.
 * agent result): a resource that reports failure is `done` with its own value or `error`,
 * one that hangs is `timeout`, one cut short by the caller is `aborted`.
 */
export type Outcome<T> =
  | { status: 'done'; value: T; durationMs: number }
  | { status: 'error'; error: unknown; durationMs: number }
  | { status: 'timeout'; durationMs: number }
  | { status: 'aborted'; durationMs: number };

/**
 * Runs `op` with an AbortSignal that fires after `timeoutMs` or when `parent` aborts. Does
 * not wait for an op that ignores its signal: the caller must not block on a hung plugin.
 */
export function runWithTimeout<T>(
  timers: Timers,
  timeoutMs: number,
  parent: AbortSignal | undefined,
  op: (signal: AbortSignal) => Promise<T>,
): Promise<Outcome<T>> {
  const started = timers.now();
  const controller = new AbortController();
  const elapsed = () => timers.now() - started;
  return new Promise<Outcome<T>>((resolve) => {
    let settled = false;
    const finish = (outcome: Outcome<T>, abortOp: boolean) => {
      if (settled) return;
      settled = true;
      cancelTimer();
      parent?.removeEventListener('abort', onParentAbort);
      if (abortOp) controller.abort(new Error(outcome.status));
      resolve(outcome);
    };
    const onParentAbort = () => finish({ status: 'aborted', durationMs: elapsed() }, true);
    const cancelTimer = timers.setTimeout(
      () => finish({ status: 'timeout', durationMs: elapsed() }, true),
      timeoutMs,
    );
    if (parent?.aborted) {
      onParentAbort();
      return;
    }
    parent?.addEventListener('abort', onParentAbort, { once: true });
    let promise: Promise<T>;
    try {
      promise = op(controller.signal);
    } catch (error) {
      finish({ status: 'error', error, durationMs: elapsed() }, false);
      return;
    }
    promise.then(
      (value) => finish({ status: 'done', value, durationMs: elapsed() }, false),
      (error: unknown) => finish({ status: 'error', error, durationMs: elapsed() }, false),
    );
  });
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
