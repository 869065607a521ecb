import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeDnsPort as freePort } from './bind.js';
import { tempDir } from './temp-dir.js';

/**
 * HAProxy on 127.0.0.1 as a stand-in for a cloud load balancer (Azure internal LB, GCP ILB):
 * one HTTP frontend, one backend whose servers are health-checked on a separate probe port
 * (`check port N`), the way the cloud probes WSFC's ProbePort / Halo's lb-probe. Runs in the
 * foreground (`-db`) and is SIGKILLed when the test ends, also on failure.
 */

export const HAPROXY = '/usr/sbin/haproxy';

export interface Backend {
  name: string;
  /** Where traffic goes. */
  port: number;
  /** Where the health check connects (the node's lb-probe port). */
  probePort: number;
}

export interface HaproxyOptions {
  backends: Backend[];
  /** Health check interval (default 100ms); fall 1 rise 1 so one probe decides. */
  inter?: string;
}

export interface Haproxy {
  /** Frontend port clients use. */
  port: number;
  log(): string;
}

interface Hooks {
  after(fn: () => unknown): void;
}

export function haproxyConfig(frontPort: number, o: HaproxyOptions): string {
  const inter = o.inter ?? '100ms';
  return `global
  maxconn 512
defaults
  mode http
  option http-server-close
  timeout connect 300ms
  timeout client 5s
  timeout server 5s
  retries 1
  option redispatch
frontend fe
  bind 127.0.0.1:${frontPort}
  default_backend be
backend be
  option tcp-check
${o.backends
  .map((b) => `  server ${b.name} 127.0.0.1:${b.port} check port ${b.probePort} inter ${inter} fall 1 rise 1`)
  .join('\n')}
`;
}

export async function startHaproxy(t: Hooks, options: HaproxyOptions): Promise<Haproxy> {
  const dir = tempDir(t as never, 'halo-haproxy-');
  const port = await freePort();
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, haproxyConfig(port, options));
  const child = spawn(HAPROXY, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (b) => (log += b));
  child.stderr!.on('data', (b) => (log += b));
  t.after(() => kill(child));
  const deadline = Date.now() + 15_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null) throw new Error(`haproxy exited:\n${log}`);
    if (Date.now() > deadline) throw new Error(`haproxy did not listen within 15s:\n${log}`);
    await sleep(25);
  }
  return { port, log: () => log };
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.setTimeout(1000, () => {
      s.destroy();
      resolve(false);
    });
  });
}

function kill(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
