import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResourceContext } from '../../../src/engine/resources/types.js';
import { silentLogger } from '../../../src/log.js';

export function makeContext(overrides: Partial<ResourceContext> = {}): ResourceContext {
  return {
    cluster: 'test-cluster',
    node: 'n1',
    group: 'g1',
    resource: 'r1',
    term: '42',
    signal: new AbortController().signal,
    log: silentLogger,
    stateDir: '/nonexistent-state-dir',
    ...overrides,
  };
}

/** A temporary directory removed when the test ends (also on failure). */
export function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'halo-res-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
