import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { HaloError } from '../../errors.js';
import { addToDigest, entryHash } from '../lease/lease-digest.js';
import type { ClusterIntent, IntentEntry } from '../types.js';

/** Stores `text` as `file` durably, or throws (ENOSPC, EIO, EROFS…) leaving the old file. */
export type PersistFn = (file: string, text: string) => void;

/**
 * The replicated admin intent: a last-writer-wins map. Every voter keeps a copy (nodes on
 * disk, the witness in RAM); a write counts once a majority holds it, and peers exchange
 * their maps regularly so a restarted node converges. Versions are hybrid-clock numbers
 * (wall ms × 1024 + voter index), always above the version they replace.
 *
 * Two ways in, because a full or broken disk must not make the nodes disagree:
 * - {@link commit} (a write made on this node) is write-ahead: the new map goes to disk first
 *   and only then into memory. When the disk refuses, nothing changes and nothing is sent, so
 *   no node applies a write its origin could not keep.
 * - {@link adopt} (entries from a peer) applies them in memory even when they cannot be
 *   written here: the cluster may already have committed them, and a node that ignored a
 *   committed "stop" would keep running what every other node shows stopped. The caller
 *   acknowledges only what is on disk ({@link durable}), so such a node never counts towards
 *   a majority, and the write is retried until the disk takes it.
 */
export interface IntentDigest {
  digest: number;
  count: number;
}

export const sameDigest = (a: IntentDigest, b: IntentDigest) => a.digest === b.digest && a.count === b.count;

export function isIntentDigest(v: unknown): v is IntentDigest {
  const d = v as Partial<IntentDigest> | null;
  return (
    typeof d === 'object' && d !== null && Number.isSafeInteger(d.digest) && Number.isSafeInteger(d.count)
  );
}

export class IntentStore {
  private readonly entries = new Map<string, IntentEntry>();
  private readonly file: string | undefined;
  private readonly persistFn: PersistFn;
  /** Memory holds entries the file does not (the last write failed). */
  private dirty = false;
  private lastError: HaloError | null = null;

  constructor(file?: string, persist: PersistFn = durableWrite) {
    this.file = file;
    this.persistFn = persist;
  }

  load(): void {
    if (!this.file) return;
    try {
      const data = JSON.parse(readFileSync(this.file, 'utf8')) as ClusterIntent;
      this.apply(this.newer(data));
    } catch {
      // No file yet (first start) or unreadable: peers will send their copy.
    }
  }

  snapshot(): ClusterIntent {
    return Object.fromEntries(this.entries);
  }

  /**
   * A fingerprint of the map (keys and versions; a version names one write), so two copies are
   * compared in a few bytes and the whole map crosses the network only when they differ.
   */
  digest(): IntentDigest {
    let digest = 0;
    for (const [key, e] of this.entries) digest = addToDigest(digest, entryHash(key, e.version, 0));
    return { digest, count: this.entries.size };
  }

  /** Everything in memory is also on disk (always true without a file). */
  get durable(): boolean {
    return !this.dirty;
  }

  /** Why the last write to disk failed; null once a write succeeded. */
  get persistError(): HaloError | null {
    return this.lastError;
  }

  /** New entries written here, versioned above what they replace. */
  prepare(values: Record<string, unknown>, voterIndex: number, wallMs = Date.now()): ClusterIntent {
    const out: ClusterIntent = {};
    for (const [key, value] of Object.entries(values)) {
      const current = this.entries.get(key)?.version ?? 0;
      const version = Math.max(
        wallMs * 1024 + voterIndex,
        (Math.floor(current / 1024) + 1) * 1024 + voterIndex,
      );
      out[key] = { value, version };
    }
    return out;
  }

  /**
   * Write-ahead: stores the map with `incoming` on disk, then applies it. Throws
   * HALO_E_STATE_WRITE_FAILED and changes nothing when the disk refuses. Returns true when
   * anything changed.
   */
  commit(incoming: ClusterIntent): boolean {
    const newer = this.newer(incoming);
    if (newer.length === 0 && !this.dirty) return false;
    const next = new Map(this.entries);
    for (const [key, entry] of newer) next.set(key, entry);
    this.persist(Object.fromEntries(next));
    this.apply(newer);
    return newer.length > 0;
  }

  /**
   * Applies a peer's entries in memory and tries to store them; `durable` tells whether the
   * whole map is now on disk (only then may the caller acknowledge).
   */
  adopt(incoming: ClusterIntent): { changed: boolean; durable: boolean } {
    const newer = this.newer(incoming);
    this.apply(newer);
    if (newer.length > 0) this.dirty = true;
    this.retry();
    return { changed: newer.length > 0, durable: !this.dirty };
  }

  /** Merges entries without a disk write result (the witness keeps its copy in RAM only). */
  merge(incoming: ClusterIntent): boolean {
    return this.adopt(incoming).changed;
  }

  /** Stores the map again if an earlier write failed; true when memory and disk now agree. */
  retry(): boolean {
    if (!this.dirty) return true;
    try {
      this.persist(this.snapshot());
    } catch {
      // Recorded in lastError; the next retry tries again.
    }
    return !this.dirty;
  }

  /** Forget everything (cluster teardown). */
  clear(): void {
    this.entries.clear();
    this.dirty = true;
    this.retry();
  }

  private newer(incoming: ClusterIntent): Array<[string, IntentEntry]> {
    const out: Array<[string, IntentEntry]> = [];
    for (const [key, entry] of Object.entries(incoming)) {
      if (!isEntry(entry)) continue;
      const current = this.entries.get(key);
      if (!current || entry.version > current.version)
        out.push([key, { value: entry.value, version: entry.version }]);
    }
    return out;
  }

  private apply(entries: Array<[string, IntentEntry]>): void {
    for (const [key, entry] of entries) this.entries.set(key, entry);
  }

  private persist(map: ClusterIntent): void {
    if (!this.file) {
      this.dirty = false;
      return;
    }
    try {
      this.persistFn(this.file, JSON.stringify(map));
    } catch (err) {
      this.lastError = stateWriteError(this.file, err);
      throw this.lastError;
    }
    this.dirty = false;
    this.lastError = null;
  }
}

/** The HALO_E_STATE_WRITE_FAILED error for a failed write of `file`. */
export function stateWriteError(file: string, err: unknown): HaloError {
  const errno = (err as NodeJS.ErrnoException | null)?.code ?? 'EIO';
  const reason = err instanceof Error ? err.message : String(err);
  return new HaloError(
    'HALO_E_STATE_WRITE_FAILED',
    `this node cannot write the cluster intent to ${file} (${reason})`,
    { file, errno },
    { cause: err },
  );
}

/**
 * Write to a temp file, fsync, rename over the file, fsync the directory: after a crash the
 * file is the old map or the new one, and a failure at any step (no space, I/O error,
 * read-only) leaves the old one in place.
 */
export function durableWrite(file: string, text: string): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, 'w', 0o600);
    try {
      const buf = Buffer.from(text);
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // Never created, or already renamed.
    }
    throw err;
  }
  // The data is synced and renamed: from here on the new map is what this node holds, so a
  // failed directory sync is not reported as a refused write (a refused write must not be
  // found in the file after a restart). At worst a power cut brings back the previous map,
  // and the peers' exchange repairs it.
  try {
    const dirFd = openSync(dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {
    // See above.
  }
}

function isEntry(v: unknown): v is IntentEntry {
  return (
    typeof v === 'object' && v !== null && Number.isSafeInteger((v as IntentEntry).version) && 'value' in v
  );
}
