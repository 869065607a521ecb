import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Thin wrappers around iproute2 and iputils for the `ip` resource. Each call has a hard
 * timeout and honours an AbortSignal; the result is data, never a throw, so the caller can
 * tell "already absent" and "not permitted" apart from real failures.
 */

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Set when the program could not be run at all (ENOENT: the package is not installed). */
  missing?: boolean;
}

/** Bit 12 of the capability sets (linux/capability.h). */
const CAP_NET_ADMIN = 12n;

export function runTool(
  file: string,
  args: readonly string[],
  opts: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { timeout: opts.timeoutMs ?? 5000, signal: opts.signal, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (!err) return resolve({ code: 0, stdout, stderr });
        const errno = (err as NodeJS.ErrnoException).code;
        if (errno === 'ENOENT') return resolve({ code: 127, stdout, stderr: err.message, missing: true });
        const code = typeof errno === 'number' ? errno : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout, stderr: stderr || err.message });
      },
    );
  });
}

/** Whether `/proc/self/status` grants CAP_NET_ADMIN in the effective set. */
export function hasNetAdmin(statusText?: string): boolean {
  let text = statusText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/status', 'utf8');
    } catch {
      // No procfs: let the ip command itself answer.
      return true;
    }
  }
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(text);
  if (!m) return true;
  return ((BigInt(`0x${m[1]}`) >> CAP_NET_ADMIN) & 1n) === 1n;
}

export function isPermissionError(stderr: string): boolean {
  return /Operation not permitted|Permission denied/i.test(stderr);
}

export function isNoDevice(stderr: string): boolean {
  return /Cannot find device|does not exist|No such device/i.test(stderr);
}

interface AddrInfo {
  family?: string;
  local?: string;
  prefixlen?: number;
}

/** Addresses on `dev` as "addr/prefix" (lowercase), from `ip -j addr show dev DEV`. */
export function parseAddresses(json: string): string[] {
  let links: Array<{ addr_info?: AddrInfo[] }>;
  try {
    links = JSON.parse(json) as Array<{ addr_info?: AddrInfo[] }>;
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const link of links)
    for (const a of link.addr_info ?? [])
      if (a.local !== undefined) out.push(`${a.local}/${a.prefixlen ?? ''}`.toLowerCase());
  return out;
}

/** Compares two textual addresses of one family (IPv6 may be written differently). */
export function sameAddress(a: string, b: string): boolean {
  return canonical(a) === canonical(b);
}

function canonical(addr: string): string {
  const [ip = '', prefix = ''] = addr.toLowerCase().split('/');
  if (!ip.includes(':')) return `${ip}/${prefix}`;
  // Expand :: and strip leading zeros so "fd00::1" equals "fd00:0:0::0001".
  const [head = '', tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill('0');
  const groups = [...h, ...fill, ...t].map((g) => g.replace(/^0+(?=.)/, ''));
  return `${groups.join(':')}/${prefix}`;
}
