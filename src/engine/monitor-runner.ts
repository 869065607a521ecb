import type { MonitorConfig } from '../config/model.js';
import type { MonitorContext, MonitorInstance } from './monitors/types.js';
import { type Cancel, errorText, runWithTimeout, type Timers } from './timers.js';

/**
 * Runs one monitor's probes on its timing: `startWait` after each activation, then one
 * probe every `interval` (measured from probe start; a slow probe is followed at once by
 * the next), each under `timeout` with an AbortSignal. It only reports results; the
 * recovery ladder (recovery.ts) and the active/always rule live in the engine.
 */

export interface ProbeReport {
  ok: boolean;
  output: string;
  /** How the probe ended: a probe that hangs is reported as a failure with status `timeout`. */
  status: 'done' | 'error' | 'timeout';
  /** The failure cannot be fixed by retrying on this node (MonitorResult.hard). */
  hard?: true;
  durationMs: number;
  /** Monotonic ms when the probe finished. */
  at: number;
}

export interface MonitorRunnerOptions {
  config: MonitorConfig;
  instance: MonitorInstance;
  timers: Timers;
  context: (signal: AbortSignal) => MonitorContext;
  onResult: (report: ProbeReport) => void;
}

/** inactive: not probing · waiting: activated, in startWait or between probes · probing: a probe runs. */
export type MonitorRunnerState = 'inactive' | 'waiting' | 'probing';

export class MonitorRunner {
  private readonly opts: MonitorRunnerOptions;
  private active = false;
  private generation = 0;
  private cancelTimer: Cancel | null = null;
  private abort: AbortController | null = null;
  private inflight: Promise<void> | null = null;

  constructor(opts: MonitorRunnerOptions) {
    this.opts = opts;
  }

  get state(): MonitorRunnerState {
    if (!this.active) return 'inactive';
    return this.inflight ? 'probing' : 'waiting';
  }

  /** Idempotent. Each activation starts over with `startWait`. */
  setActive(active: boolean): void {
    if (active === this.active) return;
    this.active = active;
    this.generation++;
    this.cancelTimer?.();
    this.cancelTimer = null;
    if (active) {
      this.arm(this.opts.config.startWaitMs);
    } else {
      this.abort?.abort(new Error('monitor deactivated'));
    }
  }

  /** Deactivates and waits for a probe in flight to return (it has been aborted). */
  async stop(): Promise<void> {
    this.setActive(false);
    await this.inflight;
  }

  private arm(delayMs: number): void {
    const generation = this.generation;
    this.cancelTimer = this.opts.timers.setTimeout(() => {
      this.cancelTimer = null;
      if (generation !== this.generation || this.inflight) return;
      this.inflight = this.probe(generation).finally(() => {
        this.inflight = null;
      });
    }, delayMs);
  }

  private async probe(generation: number): Promise<void> {
    const { config, instance, timers } = this.opts;
    const abort = new AbortController();
    this.abort = abort;
    const started = timers.now();
    const outcome = await runWithTimeout(timers, config.timeoutMs, abort.signal, (signal) =>
      instance.probe(this.opts.context(signal)),
    );
    this.abort = null;
    if (generation !== this.generation || outcome.status === 'aborted') return;
    const base = { durationMs: outcome.durationMs, at: timers.now() };
    let report: ProbeReport;
    if (outcome.status === 'done') {
      report = { ok: outcome.value.ok, output: outcome.value.output, status: 'done', ...base };
      if (!report.ok && outcome.value.hard) report.hard = true;
    } else if (outcome.status === 'error') {
      report = { ok: false, output: `probe failed: ${errorText(outcome.error)}`, status: 'error', ...base };
    } else {
      report = {
        ok: false,
        output: `probe timed out after ${config.timeoutMs}ms`,
        status: 'timeout',
        ...base,
      };
    }
    try {
      this.opts.onResult(report);
    } catch {
      // A broken listener must not stop the monitor; the engine logs its own errors.
    }
    if (generation !== this.generation || !this.active) return;
    const elapsed = timers.now() - started;
    this.arm(Math.max(0, config.intervalMs - elapsed));
  }
}
