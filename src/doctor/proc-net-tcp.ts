import { readFileSync } from 'node:fs';

/**
 * TCP sockets as the kernel lists them in /proc/net/tcp and /proc/net/tcp6 (of the reader's
 * network namespace), with the pending timer: the way to read back what keepalive a socket
 * really has, without ptrace. Format: proc(5) and net/ipv4/tcp_ipv4.c get_tcp4_sock — the
 * `tr:tm->when` column is the active timer (1 retransmit, 2 keepalive or another sk timer,
 * 3 TIME_WAIT, 4 zero-window probe) and its remaining time in USER_HZ clock ticks.
 */

export interface TcpSocketEntry {
  localPort: number;
  remotePort: number;
  /** Hex state from the kernel: 01 ESTABLISHED, 0A LISTEN, … */
  state: string;
  timer: number;
  /** Remaining time of the timer in seconds (USER_HZ = 100 on Linux). */
  remainingS: number;
  inode: number;
}

const USER_HZ = 100;

export function parseProcNetTcp(text: string): TcpSocketEntry[] {
  const out: TcpSocketEntry[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [, local, remote, state, , timerField, , , , inode] = f;
    const [timer, when] = (timerField ?? '').split(':');
    out.push({
      localPort: Number.parseInt(local?.split(':')[1] ?? '', 16),
      remotePort: Number.parseInt(remote?.split(':')[1] ?? '', 16),
      state: state ?? '',
      timer: Number.parseInt(timer ?? '0', 16),
      remainingS: Number.parseInt(when ?? '0', 16) / USER_HZ,
      inode: Number(inode),
    });
  }
  return out;
}

export function readTcpSockets(): TcpSocketEntry[] {
  const read = (path: string) => {
    try {
      return parseProcNetTcp(readFileSync(path, 'utf8'));
    } catch {
      return [];
    }
  };
  return [...read('/proc/net/tcp'), ...read('/proc/net/tcp6')];
}
