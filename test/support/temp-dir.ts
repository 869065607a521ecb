import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

/** A temp dir removed when the test ends (also on failure). */
export function tempDir(t: TestContext, prefix = 'halo-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // Retries: a process that is still being killed may write one more file into it.
  t.after(() => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }));
  return dir;
}

/** Writes a private (0600) file, as Halo requires for keys and tokens. */
export function writePrivate(path: string, content: string): string {
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}
