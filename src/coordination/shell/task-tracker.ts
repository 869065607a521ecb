import { setMaxListeners } from 'node:events';
/**
 * Background work of a long-lived component, kept on a list so that `stop()` can cancel it
 * (one AbortSignal for all of it) and then wait until every piece has finished. It replaces
 * fire-and-forget calls: a task's failure is reported to `onError` instead of becoming an
 * unhandled rejection, and no task outlives the component that started it.
 */
export class TaskTracker {
  private readonly tasks = new Set<Promise<void>>();
  private readonly controller = new AbortController();
  private readonly onError: (name: string, err: unknown) => void;

  constructor(onError: (name: string, err: unknown) => void) {
    this.onError = onError;
    // Each running task may listen on the one signal (removed when it ends); with many groups
    // many run at once, which is not a leak.
    setMaxListeners(0, this.controller.signal);
  }

  /** Aborted when draining starts: long calls should pass it on and give up early. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** How many tasks are still running (for tests and diagnostics). */
  get size(): number {
    return this.tasks.size;
  }

  /**
   * Starts `fn` in the background. Returns false (and starts nothing) once draining began:
   * work asked for during shutdown is dropped, as the component is going away.
   */
  run(name: string, fn: (signal: AbortSignal) => Promise<unknown>): boolean {
    if (this.controller.signal.aborted) return false;
    let task: Promise<void>;
    try {
      task = fn(this.controller.signal).then(
        () => undefined,
        (err: unknown) => this.onError(name, err),
      );
    } catch (err) {
      this.onError(name, err);
      return true;
    }
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task));
    return true;
  }

  /** Aborts the shared signal and waits for every task, including ones started meanwhile. */
  async drain(): Promise<void> {
    this.controller.abort(new Error('stopping'));
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
  }
}
