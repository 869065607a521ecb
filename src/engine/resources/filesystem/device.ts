import { statSync } from 'node:fs';
import { runCommand } from '../../exec/index.js';

/** A block device as found now: its path and `major:minor` (what mountinfo lists). */
export interface BlockDevice {
  path: string;
  dev: string;
}

/** Linux dev_t → `major:minor` (the glibc encoding, sys/sysmacros.h). */
export function devNumbers(rdev: bigint): string {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

/** `major:minor` of a block device path, or why it is not one. */
export function blockDevice(path: string): BlockDevice | string {
  try {
    const st = statSync(path, { bigint: true });
    if (!st.isBlockDevice()) return `${path} is not a block device`;
    return { path, dev: devNumbers(st.rdev) };
  } catch (err) {
    return `${path} cannot be found (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
}

/**
 * Finds the device behind `device`: a path as it is; `UUID=` and `LABEL=` by probing every
 * block device with blkid (util-linux) without its cache (`-c /dev/null`, a cache could name a
 * disk that moved). Two devices with the same UUID or label (a cloned disk, both paths of a
 * multipath disk without multipathd) are refused: mounting the wrong one would be silent.
 */
export async function resolveDevice(device: string, signal: AbortSignal): Promise<BlockDevice | string> {
  if (device.startsWith('/')) return blockDevice(device);
  const r = await runCommand(['blkid', '-c', '/dev/null', '-o', 'device', '-t', device], {
    signal,
    maxOutputBytes: 4096,
  });
  if (r.spawnError) return `cannot look up ${device}: ${r.spawnError}`;
  if (r.aborted || r.timedOut) return `looking up ${device} with blkid did not finish`;
  // blkid exits 2 when no device matches.
  const paths =
    r.code === 0
      ? r.output
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l.startsWith('/'))
      : [];
  if (paths.length === 0) return `no block device has ${device} (blkid found none)`;
  if (paths.length > 1)
    return `several block devices have ${device} (${paths.join(', ')}); name the device by path`;
  return blockDevice(paths[0] as string);
}
