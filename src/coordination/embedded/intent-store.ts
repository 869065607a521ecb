import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ClusterIntent, IntentEntry } from '../types.js';

/**
 * The replicated admin intent: a last-writer-wins map. Every voter keeps a copy (nodes on
 * disk, the witness in RAM); a write counts once a majority holds it, and peers exchange
 * their maps regularly so a restarted node converges. Versions are hybrid-clock numbers
 * (wall ms × 1024 + voter index), always above the version they replace.
 */
export class IntentStore {
  private readonly entries = new Map<string, IntentEntry>();
  private readonly file: string | undefined;

  constructor(file?: string) {
    this.file = file;
  }

  load(): void {
    if (!this.file) return;
    try {
      const data = JSON.parse(readFileSync(this.file, 'utf8')) as ClusterIntent;
      this.merge(data);
    } catch {
      // No file yet (first start) or unreadable: peers will send their copy.
    }
  }

  snapshot(): ClusterIntent {
    return Object.fromEntries(this.entries);
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

  /** Merges entries; returns true when anything changed (and persists it). */
  merge(incoming: ClusterIntent): boolean {
    let changed = false;
    for (const [key, entry] of Object.entries(incoming)) {
      if (!isEntry(entry)) continue;
      const current = this.entries.get(key);
      if (!current || entry.version > current.version) {
        this.entries.set(key, { value: entry.value, version: entry.version });
        changed = true;
      }
    }
    if (changed) this.persist();
    return changed;
  }

  /** Forget everything (cluster teardown). */
  clear(): void {
    this.entries.clear();
    this.persist();
  }

  private persist(): void {
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.snapshot()), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}

function isEntry(v: unknown): v is IntentEntry {
  return (
    typeof v === 'object' && v !== null && Number.isSafeInteger((v as IntentEntry).version) && 'value' in v
  );
}
