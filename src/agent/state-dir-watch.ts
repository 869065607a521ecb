import { probeStateDir, type StateDirHealth, type StateDirLevel } from './state-dir.js';

export interface StateDirWatchOptions {
  dir: string;
  /** How often to probe (ms). */
  everyMs: number;
  /** The level changed (also called once after the first probe when it is not ok). */
  changed: (health: StateDirHealth, previous: StateDirLevel | null) => void;
}

/**
 * Probes the state directory in the background so `GET /v1/status` can show its health
 * without touching the disk on the request path (a hung disk must not hang the API).
 */
export class StateDirWatch {
  private readonly opts: StateDirWatchOptions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private last: StateDirHealth | null = null;
  private stopped = false;

  constructor(opts: StateDirWatchOptions) {
    this.opts = opts;
  }

  /** The last probe's result (null before the first one finished). */
  current(): StateDirHealth | null {
    return this.last;
  }

  async start(): Promise<void> {
    await this.probe();
    this.timer = setInterval(() => {
      this.running = this.running.then(() => this.probe());
    }, this.opts.everyMs);
    this.timer.unref();
  }

  /** Probe now (e.g. right after a write failed); resolves with the fresh result. */
  async refresh(): Promise<StateDirHealth | null> {
    this.running = this.running.then(() => this.probe());
    await this.running;
    return this.last;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private async probe(): Promise<void> {
    if (this.stopped) return;
    const health = await probeStateDir(this.opts.dir);
    const previous = this.last?.level ?? null;
    this.last = health;
    if (health.level !== previous && (previous !== null || health.level !== 'ok'))
      this.opts.changed(health, previous);
  }
}
