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
 * one that hangs is `timeout`, one cut short by the caller is `aborted`. `unsettled` marks a
 * timed-out or aborted op that had still not returned when the caller stopped waiting for it.
 */
export type Outcome<T> =
  | { status: 'done'; value: T; durationMs: number }
  | { status: 'error'; error: unknown; durationMs: number }
  | { status: 'timeout'; durationMs: number; unsettled?: true }
  | { status: 'aborted'; durationMs: number; unsettled?: true };

export interface RunOptions {
  /**
   * After a timeout or an abort, how long to keep waiting for the op itself to return. An op
   * that changes the node (a start, a stop) can still be acting after its signal fired: an
   * `ip addr add` in flight completes after the abort, and a cleanup stop run before it would
   * leave the address up. Without it the outcome is returned at once (checks, which change
   * nothing, must never block their caller on a hung plugin).
   */
  settleMs?: (status: 'timeout' | 'aborted', elapsedMs: number) => number;
}

/** Runs `op` with an AbortSignal that fires after `timeoutMs` or when `parent` aborts. */
export function runWithTimeout<T>(
  timers: Timers,
  timeoutMs: number,
  parent: AbortSignal | undefined,
  op: (signal: AbortSignal) => Promise<T>,
  options: RunOptions = {},
): Promise<Outcome<T>> {
  const started = timers.now();
  const controller = new AbortController();
  const elapsed = () => timers.now() - started;
  let opSettled = false;
  const settleWaiters: Array<() => void> = [];
  const markSettled = () => {
    opSettled = true;
    for (const wake of settleWaiters.splice(0)) wake();
  };
  return new Promise<Outcome<T>>((resolve) => {
    let settled = false;
    const finish = (outcome: Outcome<T>, abortOp: boolean) => {
      if (settled) return;
      settled = true;
      cancelTimer();
      parent?.removeEventListener('abort', onParentAbort);
      if (!abortOp) return resolve(outcome);
      controller.abort(new Error(outcome.status));
      const status = outcome.status as 'timeout' | 'aborted';
      const waitMs = options.settleMs?.(status, outcome.durationMs) ?? 0;
      if (opSettled || waitMs <= 0)
        return resolve(opSettled || !options.settleMs ? outcome : { ...outcome, status, unsettled: true });
      const cancelWait = timers.setTimeout(() => resolve({ ...outcome, status, unsettled: true }), waitMs);
      settleWaiters.push(() => {
        cancelWait();
        resolve(outcome);
      });
    };
    const onParentAbort = () => finish({ status: 'aborted', durationMs: elapsed() }, true);
    const cancelTimer = timers.setTimeout(
      () => finish({ status: 'timeout', durationMs: elapsed() }, true),
      timeoutMs,
    );
    if (parent?.aborted) {
      markSettled();
      onParentAbort();
      return;
    }
    parent?.addEventListener('abort', onParentAbort, { once: true });
    let promise: Promise<T>;
    try {
      promise = op(controller.signal);
    } catch (error) {
      markSettled();
      finish({ status: 'error', error, durationMs: elapsed() }, false);
      return;
    }
    promise.then(
      (value) => {
        markSettled();
        finish({ status: 'done', value, durationMs: elapsed() }, false);
      },
      (error: unknown) => {
        markSettled();
        finish({ status: 'error', error, durationMs: elapsed() }, false);
      },
    );
  });
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
