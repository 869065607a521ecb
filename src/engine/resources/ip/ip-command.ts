import { readFileSync } from 'node:fs';
import { baseEnv } from '../../../util/command-env.js';
import { launch } from '../../exec/launcher.js';
import type { OutputStream } from '../../exec/launcher-protocol.js';

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

/** Output kept per stream: `ip -j addr show` of a busy interface is a few kB. */
const MAX_TOOL_OUTPUT = 1024 * 1024;

/**
 * Runs `file` to completion through the agent's launcher process (see launcher-main.ts: a fork
 * of the agent costs its coordination thread page faults), with the clean command environment
 * (the agent's own may hold cloud credentials). Killed with SIGKILL on timeout or abort: these
 * tools start no children.
 */
export async function runTool(
  file: string,
  args: readonly string[],
  opts: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<ToolResult> {
  if (opts.signal?.aborted) return { code: 1, stdout: '', stderr: `${file} not run: aborted` };
  const out: Record<OutputStream, Buffer[]> = { stdout: [], stderr: [] };
  const size: Record<OutputStream, number> = { stdout: 0, stderr: 0 };
  const started = launch(file, [...args], { env: baseEnv() }, (chunk, stream) => {
    if (size[stream] >= MAX_TOOL_OUTPUT) return;
    out[stream].push(chunk);
    size[stream] += chunk.length;
  });
  let ended: string | undefined;
  const end = (why: string) => {
    ended ??= why;
    void started.pid.then((pid) => {
      if (pid === undefined) return;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    });
  };
  const timeoutMs = opts.timeoutMs ?? 5000;
  const timer = setTimeout(() => end(`${file} timed out after ${timeoutMs} ms`), timeoutMs);
  const onAbort = () => end(`${file} aborted`);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const { code, signal, error } = await started.outcome;
    const stdout = Buffer.concat(out.stdout).toString('utf8');
    const stderr = Buffer.concat(out.stderr).toString('utf8');
    if (error?.code === 'ENOENT') return { code: 127, stdout, stderr: error.message, missing: true };
    if (error) return { code: 1, stdout, stderr: stderr || error.message };
    if (ended !== undefined) return { code: 1, stdout, stderr: stderr || ended };
    return {
      code: code ?? 1,
      stdout,
      stderr: code === null && !stderr ? `${file} ended by ${signal}` : stderr,
    };
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
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
