import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { stringify } from 'yaml';
import { diffConfig, isEmptyDiff } from '../../../src/config/config-diff.js';
import type { HaloConfig } from '../../../src/config/model.js';
import { parseConfig } from '../../../src/engine/config-catalog.js';
import { tempDir, writePrivate } from '../../support/temp-dir.js';

type Doc = Record<string, any>;

function base(): Doc {
  return {
    cluster: { name: 'test', secretFile: 'cluster.key' },
    nodes: { n1: { address: '127.0.0.1' }, n2: { address: '127.0.0.2' } },
    witness: { address: '127.0.0.3' },
    groups: {
      a: {
        nodes: ['n1', 'n2'],
        resources: { r: { type: 'script', start: 'true', stop: 'true', env: { PORT: '1' } } },
        monitors: { m: { type: 'resource', target: 'r', interval: '1s' } },
      },
      b: { nodes: ['n1', 'n2'], resources: { s: { type: 'script', start: 'true', stop: 'true' } } },
    },
  };
}

/** Both versions from the same directory: paths (secretFile) are part of the config. */
function changed(t: TestContext, edit: (d: Doc) => void): { old: HaloConfig; next: HaloConfig } {
  const dir = tempDir(t, 'halo-diff-config-');
  writePrivate(join(dir, 'cluster.key'), 'k'.repeat(64));
  const load = (d: Doc) => parseConfig(stringify(d), join(dir, 'halo.yaml'), { baseDir: dir });
  const d = base();
  const old = load(d);
  edit(d);
  return { old, next: load(d) };
}

describe('config diff (halo config apply)', () => {
  test('parameters, monitors, alerts and recovery settings keep the epoch and are listed per group', (t) => {
    const { old, next } = changed(t, (d) => {
      d.groups.a.resources.r.env.PORT = '2';
      d.groups.a.resources.r.timeout = { check: '5s' };
      d.groups.a.monitors.m.interval = '2s';
      d.groups.a.monitors.n = { type: 'resource', target: 'r' };
      d.groups.a.failureTimeout = '10m';
      d.monitors = { gw: { type: 'tcp', host: '127.0.0.1', port: 1 } };
    });
    assert.equal(next.epoch, old.epoch, 'the same epoch');
    assert.notEqual(next.version, old.version, 'another version');
    const diff = diffConfig(old, next);
    assert.deepEqual(diff.needsRestart, []);
    assert.equal(diff.groups.length, 1, 'group b is not named');
    const a = diff.groups[0]!;
    assert.equal(a.group, 'a');
    assert.deepEqual(Object.keys(a.params[0]!.values).sort(), ['env', 'timeout']);
    assert.deepEqual(a.params[0]!.values['env'], { PORT: '2' });
    assert.deepEqual(a.monitors, { added: ['n'], changed: ['m'], removed: [] });
    assert.equal(a.settings, true);
    assert.deepEqual(diff.nodeMonitors, { added: ['gw'], changed: [], removed: [] });
  });

  test('a removed parameter is a change to undefined (the default applies again)', (t) => {
    const { old, next } = changed(t, (d) => {
      delete d.groups.a.resources.r.env;
    });
    const diff = diffConfig(old, next);
    assert.ok('env' in diff.groups[0]!.params[0]!.values);
    assert.equal(diff.groups[0]!.params[0]!.values['env'], undefined);
  });

  test('what the agents coordinate on needs a restart and changes the epoch', (t) => {
    const cases: Array<[string, (d: Doc) => void, RegExp]> = [
      ['autoFailback', (d) => (d.groups.a.autoFailback = true), /^groups\.a\.autoFailback$/],
      [
        'a new resource',
        (d) => (d.groups.b.resources.t = { type: 'script', start: 'true', stop: 'true' }),
        /groups\.b\.resources/,
      ],
      ['a new group', (d) => (d.groups.c = d.groups.b), /^groups \(added/],
      ['a node', (d) => (d.nodes.n2.address = '127.0.0.9'), /^nodes$/],
      ['the timing', (d) => (d.cluster.timing = 'fast'), /^cluster$/],
    ];
    for (const [what, edit, expected] of cases) {
      const { old, next } = changed(t, edit);
      assert.notEqual(next.epoch, old.epoch, `${what}: another epoch`);
      const diff = diffConfig(old, next);
      assert.ok(
        diff.needsRestart.some((x) => expected.test(x)),
        `${what}: ${diff.needsRestart.join('; ')}`,
      );
    }
  });

  test('the same content is an empty diff', (t) => {
    const { old, next } = changed(t, () => {});
    assert.equal(next.version, old.version);
    assert.ok(isEmptyDiff(diffConfig(old, next)));
  });
});
