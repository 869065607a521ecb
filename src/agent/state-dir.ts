import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { open, statfs, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Whether the agent can write its state directory (the replicated intent, the event log,
 * tokens). A node that cannot refuses intent writes (HALO_E_STATE_WRITE_FAILED) but keeps
 * running; status and `halo doctor` show why, so the operator frees space before it matters.
 */
export interface StateDirHealth {
  dir: string;
  /** A small probe file could be written, synced and removed. */
  writable: boolean;
  /** The errno of the failed probe (ENOSPC, EROFS, EIO, EACCES, ENOENT…); null when writable. */
  error: string | null;
  /** Bytes an unprivileged writer may still use (statfs bavail); null when unknown. */
  freeBytes: number | null;
  totalBytes: number | null;
  /** ok | low (little space left) | full (ENOSPC or no space) | unwritable (any other error). */
  level: StateDirLevel;
  checkedAt: string;
}

export type StateDirLevel = 'ok' | 'low' | 'full' | 'unwritable';

/** Below this much free space the state dir is reported `low` (a warning, not a failure). */
export const LOW_FREE_BYTES = 64 * 1024 * 1024;

/** The probe writes one page: a file system with less than that left cannot store the intent. */
const PROBE_BYTES = 4096;

/** Pure: how bad a probe result is. */
export function stateDirLevel(
  probe: { writable: boolean; error: string | null; freeBytes: number | null },
  lowFreeBytes = LOW_FREE_BYTES,
): StateDirLevel {
  if (!probe.writable) return probe.error === 'ENOSPC' || probe.error === 'EDQUOT' ? 'full' : 'unwritable';
  if (probe.freeBytes !== null && probe.freeBytes < PROBE_BYTES) return 'full';
  if (probe.freeBytes !== null && probe.freeBytes < lowFreeBytes) return 'low';
  return 'ok';
}

/** One line for a person: what is wrong with the state dir, or that it is fine. */
export function describeStateDir(h: StateDirHealth): string {
  const free = h.freeBytes === null ? 'free space unknown' : `${formatBytes(h.freeBytes)} free`;
  switch (h.level) {
    case 'ok':
      return `${h.dir} is writable (${free})`;
    case 'low':
      return `${h.dir} is writable but has little space left (${free})`;
    case 'full':
      return `${h.dir} is full (${h.error ?? 'no space left'}, ${free}): intent writes are refused on this node`;
    case 'unwritable':
      return `${h.dir} cannot be written (${h.error}): intent writes are refused on this node`;
  }
}

/** Writes, syncs and removes a probe file in `dir`, and reads its free space. Never throws. */
export async function probeStateDir(dir: string, lowFreeBytes = LOW_FREE_BYTES): Promise<StateDirHealth> {
  let freeBytes: number | null = null;
  let totalBytes: number | null = null;
  try {
    const s = await statfs(dir);
    freeBytes = s.bavail * s.bsize;
    totalBytes = s.blocks * s.bsize;
  } catch {
    // Missing directory or no statfs: the write probe says what is wrong.
  }
  let error: string | null = null;
  const file = join(dir, `.halo-write-probe.${process.pid}`);
  try {
    const fh = await open(file, 'w', 0o600);
    try {
      await fh.write(Buffer.alloc(PROBE_BYTES));
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    error = (err as NodeJS.ErrnoException).code ?? 'EIO';
  }
  await unlink(file).catch(() => undefined);
  const probe = { writable: error === null, error, freeBytes };
  return {
    dir,
    ...probe,
    totalBytes,
    level: stateDirLevel(probe, lowFreeBytes),
    checkedAt: new Date().toISOString(),
  };
}

function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(0)} KiB`;
  return `${n} B`;
}

/**
 * Creates the state directory private (0700: it holds the API token, the event log and the
 * replicated intent), also its missing parents, whatever the umask. An existing directory keeps
 * its mode (the operator may have reasons); the returned mode lets the agent warn when other
 * users can enter it, as `halo doctor` does.
 */
export function ensureStateDir(dir: string): { created: boolean; mode: number } {
  const first = mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (first !== undefined) chmodSync(dir, 0o700);
  return { created: first !== undefined, mode: statSync(dir).mode & 0o777 };
}

/** The warning for a state dir other users may enter, or undefined when it is private. */
export function looseStateDirProblem(dir: string, mode: number): string | undefined {
  if ((mode & 0o077) === 0) return undefined;
  return `state directory ${dir} has mode 0${mode.toString(8)}: other users may list or read it; run \`chmod 700 ${dir}\``;
}
