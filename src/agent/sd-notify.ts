import { type ChildProcess, spawn, spawnSync } from 'node:child_process';

/**
 * sd_notify(3) for `Type=notify` units: READY=1 once the agent serves, WATCHDOG=1 pings at
 * half of `WatchdogSec`, STOPPING=1 on shutdown.
 *
 * Node cannot open an AF_UNIX SOCK_DGRAM socket, so the datagrams are sent by one small
 * long-lived python3 helper that reads one JSON-encoded message per line on stdin. It lives
 * as long as the agent, in the same cgroup, so systemd attributes every message to the unit
 * (`NotifyAccess=all` in packaging/halo-agent.service, since the sender is not the main PID).
 * A short-lived `systemd-notify` per message would race its own exit against systemd's
 * lookup of the sender's unit. Without python3 we fall back to it anyway, best effort.
 */

const HELPER = `
import json, os, signal, socket, sys
# Ctrl-C reaches the whole process group: outlive it so STOPPING=1 still goes out.
signal.signal(signal.SIGINT, signal.SIG_IGN)
path = os.environ["NOTIFY_SOCKET"]
if path.startswith("@"):
    path = "\\0" + path[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for line in sys.stdin:
    try:
        s.sendto(json.loads(line).encode(), path)
    except Exception as e:
        sys.stderr.write("sd_notify: %s\\n" % e)
        sys.stderr.flush()
`;

export interface SdNotifyOptions {
  env?: NodeJS.ProcessEnv;
  /** Called when a message cannot be delivered (never throws into the agent). */
  onError?: (message: string) => void;
}

export class SdNotify {
  private readonly env: NodeJS.ProcessEnv;
  private readonly onError: (message: string) => void;
  private helper: ChildProcess | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private mode: 'python' | 'systemd-notify' | 'off' = 'off';

  constructor(opts: SdNotifyOptions = {}) {
    this.env = opts.env ?? process.env;
    this.onError = opts.onError ?? (() => undefined);
  }

  /** True when systemd asked for notifications (NOTIFY_SOCKET is set). */
  get enabled(): boolean {
    return Boolean(this.env['NOTIFY_SOCKET']);
  }

  /** Watchdog ping interval: half of WATCHDOG_USEC, when the watchdog is meant for this process. */
  watchdogIntervalMs(pid = process.pid): number | null {
    const usec = Number(this.env['WATCHDOG_USEC']);
    const forPid = this.env['WATCHDOG_PID'];
    if (!Number.isFinite(usec) || usec <= 0) return null;
    if (forPid !== undefined && forPid !== '' && Number(forPid) !== pid) return null;
    return Math.max(1, Math.floor(usec / 2000));
  }

  start(): void {
    if (!this.enabled || this.mode !== 'off') return;
    if (spawnSync('python3', ['-c', ''], { stdio: 'ignore' }).status === 0) {
      const child = spawn('python3', ['-u', '-c', HELPER], {
        env: { ...this.env, NOTIFY_SOCKET: this.env['NOTIFY_SOCKET'] },
        stdio: ['pipe', 'ignore', 'pipe'],
      });
      child.stderr?.on('data', (b: Buffer) => this.onError(b.toString().trim()));
      child.on('error', (err) => this.onError(`sd_notify helper: ${err.message}`));
      child.stdin?.on('error', () => undefined);
      // The helper must never keep the agent alive on its own.
      child.unref();
      (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
      (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
      this.helper = child;
      this.mode = 'python';
    } else {
      this.mode = 'systemd-notify';
    }
    const every = this.watchdogIntervalMs();
    if (every !== null) {
      this.watchdog = setInterval(() => this.notify('WATCHDOG=1'), every);
      this.watchdog.unref();
    }
  }

  /** Sends one notification, e.g. `READY=1\nSTATUS=serving`. A no-op without NOTIFY_SOCKET. */
  notify(message: string): void {
    if (this.mode === 'python') this.helper?.stdin?.write(`${JSON.stringify(message)}\n`);
    else if (this.mode === 'systemd-notify') {
      const child = spawn('systemd-notify', message.split('\n'), { stdio: 'ignore', env: this.env });
      child.on('error', (err) => this.onError(`systemd-notify: ${err.message}`));
      child.unref();
    }
  }

  /** Sends STOPPING=1 and lets the helper exit once it has sent everything. */
  async stop(): Promise<void> {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    if (this.mode === 'off') return;
    this.notify('STOPPING=1');
    const helper = this.helper;
    this.helper = null;
    this.mode = 'off';
    if (!helper || helper.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => helper.once('exit', () => resolve()));
    // Keep the event loop alive until the helper has sent STOPPING=1 and exited (at most 1 s).
    helper.ref();
    helper.stdin?.end();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 1000)))]);
    clearTimeout(timer);
  }
}
