import { createSocket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * The two things every multi-process test needs: a loopback port nobody uses (free for TCP
 * and UDP alike, since agents use one number for both kinds of traffic in some setups), and
 * a way to find every process a test started, however deeply it was reparented.
 */

export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const s = createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
}

/**
 * Environment variable that marks a test's processes. Not `HALO_…`: commands run by
 * resources get the agent's environment without its HALO_* variables, and must carry it too.
 */
export const TAG_VAR = 'HALOTEST_TAG';

/** Pids of every process whose environment carries the tag. */
export function taggedPids(tag: string): number[] {
  const needle = `${TAG_VAR}=${tag}`;
  const pids: number[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(needle)) pids.push(Number(pid));
    } catch {
      // Gone already, or not ours to read.
    }
  }
  return pids;
}

/** SIGKILL every process of the test (agents, deadman helpers, what resources started). */
export function killTagged(tag: string): void {
  for (const pid of taggedPids(tag)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Exited meanwhile.
    }
  }
}
