import { HaloError } from '../../../errors.js';
import { runCommand } from '../../exec/index.js';

/**
 * The node-local half of a cloud VIP: the address on an interface so the kernel accepts
 * packets the cloud now routes here (iproute2 `ip addr`). Both directions are idempotent.
 */

export interface LocalAddress {
  ip: string;
  prefix: number;
  device: string;
}

const IP_TIMEOUT_MS = 5000;

async function ip(args: string[], signal: AbortSignal) {
  return runCommand(['ip', ...args], { signal, timeoutMs: IP_TIMEOUT_MS, killGraceMs: 500 });
}

function failure(what: string, addr: LocalAddress, output: string, code: number | null): HaloError {
  return new HaloError(
    code === 2 && /Operation not permitted/i.test(output) ? 'HALO_E_PERMISSION' : 'HALO_E_IP_COMMAND_FAILED',
    `${what} ${addr.ip}/${addr.prefix} on ${addr.device} failed: ${output.trim().split('\n').pop() ?? ''}${
      /Operation not permitted/i.test(output)
        ? ' (needs root or CAP_NET_ADMIN; or set localAddress: false)'
        : ''
    }`,
    { ...addr, output },
  );
}

export async function hasLocalAddress(addr: LocalAddress, signal: AbortSignal): Promise<boolean> {
  const res = await ip(['-o', 'addr', 'show', 'dev', addr.device], signal);
  if (res.code !== 0) throw failure('reading', addr, res.output, res.code);
  const want = `${addr.ip}/${addr.prefix}`;
  return res.output.split('\n').some((line) => line.split(/\s+/).includes(want));
}

export async function addLocalAddress(addr: LocalAddress, signal: AbortSignal): Promise<void> {
  const res = await ip(['addr', 'add', `${addr.ip}/${addr.prefix}`, 'dev', addr.device], signal);
  if (res.code === 0 || /File exists|already assigned/i.test(res.output)) return;
  throw failure('adding', addr, res.output, res.code);
}

export async function removeLocalAddress(addr: LocalAddress, signal: AbortSignal): Promise<void> {
  // Look first: reading needs no privilege, so stopping a resource that never added its
  // address succeeds even without root (a failed stop would make the node fence itself).
  try {
    if (!(await hasLocalAddress(addr, signal))) return;
  } catch (err) {
    if (/does not exist|Cannot find device/i.test((err as Error).message)) return;
    throw err;
  }
  const res = await ip(['addr', 'del', `${addr.ip}/${addr.prefix}`, 'dev', addr.device], signal);
  // "Cannot assign requested address": gone meanwhile, which is what stop wants.
  if (res.code === 0 || /Cannot assign requested address/i.test(res.output)) return;
  throw failure('removing', addr, res.output, res.code);
}
