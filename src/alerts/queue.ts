import type { Timers } from '../engine/timers.js';
import type { Alert } from './alert.js';

/**
 * One receiver's delivery queue. The engine only ever calls `push`, which never waits: a slow
 * or dead receiver can fill its own queue, never delay a failover. When the queue is full the
 * oldest waiting alert is dropped and counted (the newest says most about the cluster now).
 * One alert is sent at a time, in order; a failed attempt is retried after an exponential
 * back-off (base × 2^(attempt−1), at most MAX_BACKOFF_MS) while `retries` allows.
 */

export const MAX_BACKOFF_MS = 60_000;

export interface DeliveryPolicy {
  queueSize: number;
  timeoutMs: number;
  /** Attempts after the first one failed. */
  retries: number;
  backoffMs: number;
  /**
   * An alert raised while the queue was idle waits this long before delivery starts (those
   * raised meanwhile go with it). Alerts are raised in the middle of a failover; their senders
   * fork a script or open sockets, which must not compete with the failover's own work. The
   * bench:failover `--alerts down` run showed kill failovers ~30–70 ms slower without it.
   */
  settleMs?: number;
}

/** Delivers one alert; rejects on failure. Must give up when `signal` aborts. */
export type SendFn = (alert: Alert, signal: AbortSignal) => Promise<void>;

/** Counters since the agent started (exported as metrics and shown in status). */
export interface QueueStats {
  sent: number;
  failed: number;
  dropped: number;
  queued: number;
  lastError: string | null;
}

/**
 * - `idle`: waiting for an alert.
 * - `sending`: an attempt is in flight or waiting out its back-off.
 * - `stopped`: `stop()` was called; pushes are ignored.
 */
export type QueueState = 'idle' | 'sending' | 'stopped';

export interface QueueHooks {
  /** Every attempt failed (or the last one timed out): the alert is given up. */
  failed?(alert: Alert, error: string, attempts: number): void;
  sent?(alert: Alert, attempts: number): void;
}

export function backoffDelay(attempt: number, baseMs: number): number {
  return Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempt - 1));
}

export class AlertQueue {
  private readonly waiting: Alert[] = [];
  private _state: QueueState = 'idle';
  private wake: (() => void) | null = null;
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  readonly stats: QueueStats = { sent: 0, failed: 0, dropped: 0, queued: 0, lastError: null };

  constructor(
    private readonly policy: DeliveryPolicy,
    private readonly send: SendFn,
    private readonly timers: Pick<Timers, 'setTimeout'>,
    private readonly hooks: QueueHooks = {},
  ) {}

  get state(): QueueState {
    return this._state;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Never blocks. Returns false when an older alert had to be dropped to make room. */
  push(alert: Alert): boolean {
    if (this._state === 'stopped') return true;
    let kept = true;
    while (this.waiting.length >= this.policy.queueSize) {
      this.waiting.shift();
      this.stats.dropped++;
      kept = false;
    }
    this.waiting.push(alert);
    this.stats.queued = this.waiting.length;
    this.wake?.();
    return kept;
  }

  /** Gives up the attempt in flight and whatever waits; resolves once the loop has ended. */
  async stop(): Promise<void> {
    this._state = 'stopped';
    this.abort.abort(new Error('alert delivery stopped'));
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this._state !== 'stopped') {
      const alert = this.waiting.shift();
      this.stats.queued = this.waiting.length;
      if (!alert) {
        this._state = 'idle';
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = null;
        if (this.policy.settleMs) await this.sleep(this.policy.settleMs);
        continue;
      }
      this._state = 'sending';
      await this.deliver(alert);
    }
  }

  private async deliver(alert: Alert): Promise<void> {
    const { retries, backoffMs, timeoutMs } = this.policy;
    let lastError = '';
    let attempts = retries + 1;
    for (let attempt = 1; attempt <= retries + 1; attempt++) {
      if (this.abort.signal.aborted) return;
      if (attempt > 1 && !(await this.sleep(backoffDelay(attempt - 1, backoffMs)))) return;
      const error = await this.attempt(alert, timeoutMs);
      if (error === null) {
        this.stats.sent++;
        this.hooks.sent?.(alert, attempt);
        return;
      }
      if (this.abort.signal.aborted) return;
      lastError = error.message;
      if (!error.retryable) {
        attempts = attempt;
        break;
      }
    }
    this.stats.failed++;
    this.stats.lastError = lastError;
    this.hooks.failed?.(alert, lastError, attempts);
  }

  /** One attempt under the timeout: null when delivered, else why not. */
  private async attempt(
    alert: Alert,
    timeoutMs: number,
  ): Promise<{ message: string; retryable: boolean } | null> {
    const ctl = new AbortController();
    const onStop = () => ctl.abort(this.abort.signal.reason);
    this.abort.signal.addEventListener('abort', onStop, { once: true });
    let timedOut = false;
    let fire: () => void = () => undefined;
    const timeout = new Promise<void>((resolve) => {
      fire = resolve;
    });
    const cancel = this.timers.setTimeout(() => {
      timedOut = true;
      ctl.abort(new Error(`timed out after ${timeoutMs}ms`));
      fire();
    }, timeoutMs);
    try {
      // A sender that ignores its signal cannot hold the queue past the timeout.
      await Promise.race([this.send(alert, ctl.signal), timeout]);
      if (timedOut) return { message: `timed out after ${timeoutMs}ms`, retryable: true };
      return null;
    } catch (err) {
      if (timedOut) return { message: `timed out after ${timeoutMs}ms`, retryable: true };
      // A sender marks what a retry cannot fix (a webhook's 404) with retryable: false.
      return { message: errorText(err), retryable: (err as { retryable?: unknown }).retryable !== false };
    } finally {
      cancel();
      this.abort.signal.removeEventListener('abort', onStop);
    }
  }

  /** false when stopped meanwhile. */
  private sleep(ms: number): Promise<boolean> {
    if (this.abort.signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onStop = () => {
        cancel();
        resolve(false);
      };
      const cancel = this.timers.setTimeout(() => {
        this.abort.signal.removeEventListener('abort', onStop);
        resolve(true);
      }, ms);
      this.abort.signal.addEventListener('abort', onStop, { once: true });
    });
  }
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
