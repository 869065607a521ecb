import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { stringify } from 'yaml';
import type { HaloConfig } from '../../../src/config/model.js';
import { parseConfig } from '../../../src/engine/config-catalog.js';
import { tempDir, writePrivate } from '../../support/temp-dir.js';

type Doc = Record<string, any>;

function load(t: TestContext, cluster: Doc, groups: Record<string, Doc>, monitor?: Doc): HaloConfig {
  const dir = tempDir(t, 'halo-failure-config-');
  writePrivate(join(dir, 'cluster.key'), 'k'.repeat(64));
  const resources = { app: { type: 'script', start: 'true', stop: 'true' } };
  const d = {
    cluster: { name: 'test', secretFile: 'cluster.key', ...cluster },
    nodes: { n1: { address: '127.0.0.1' }, n2: { address: '127.0.0.2' } },
    witness: { address: '127.0.0.3' },
    groups: Object.fromEntries(
      Object.entries(groups).map(([name, g]) => [
        name,
        { nodes: ['n1', 'n2'], resources, ...(monitor ? { monitors: { m: monitor } } : {}), ...g },
      ]),
    ),
  };
  return parseConfig(stringify(d), join(dir, 'halo.yaml'), { baseDir: dir });
}

describe('failure history config', () => {
  test('failureTimeout: never by default, the cluster default per group, 0s turns it off for one group', (t) => {
    const none = load(t, {}, { web: {} });
    assert.equal(none.groups[0]!.failureTimeoutMs, undefined, 'unset: marks last until cleared');
    const c = load(
      t,
      { failureTimeout: '10m' },
      { web: {}, db: { failureTimeout: '30s' }, fs: { failureTimeout: '0s' } },
    );
    const of = (name: string) => c.groups.find((g) => g.name === name)!.failureTimeoutMs;
    assert.equal(of('web'), 600_000);
    assert.equal(of('db'), 30_000);
    assert.equal(of('fs'), undefined);
  });

  test('a config without the new keys keeps its epoch (agents of a rolling upgrade agree)', (t) => {
    const a = load(t, {}, { web: {} });
    const b = load(t, { failureTimeout: '0s' }, { web: {} });
    assert.equal(a.epoch, b.epoch);
  });

  test('onFailure.restartWindow becomes restartWindowMs; absent or 0s leaves it out', (t) => {
    const check = { type: 'resource', target: 'app' };
    const withWindow = load(
      t,
      {},
      { web: {} },
      { ...check, onFailure: { restart: 3, restartWindow: '10m' } },
    );
    assert.deepEqual(withWindow.groups[0]!.monitors[0]!.onFailure, {
      restart: 3,
      then: 'failover',
      restartWindowMs: 600_000,
    });
    const without = load(t, {}, { web: {} }, { ...check, onFailure: { restart: 3, restartWindow: '0s' } });
    assert.deepEqual(without.groups[0]!.monitors[0]!.onFailure, { restart: 3, then: 'failover' });
  });
});
