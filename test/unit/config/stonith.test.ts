import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { stringify } from 'yaml';
import { parseConfig } from '../../../src/engine/config-catalog.js';
import { isHaloError } from '../../../src/errors.js';
import { tempDir, writePrivate } from '../../support/temp-dir.js';

type Doc = Record<string, any>;

function doc(group: Doc): Doc {
  return {
    cluster: { name: 'test', secretFile: 'cluster.key' },
    nodes: { n1: { address: '127.0.0.1' }, n2: { address: '127.0.0.2' } },
    witness: { address: '127.0.0.3' },
    groups: {
      web: {
        nodes: ['n1', 'n2'],
        resources: { app: { type: 'script', start: 'true', stop: 'true' } },
        ...group,
      },
    },
  };
}

function problems(d: Doc, dir: string): string[] {
  try {
    parseConfig(stringify(d), join(dir, 'halo.yaml'), { baseDir: dir });
  } catch (err) {
    if (!isHaloError(err)) throw err;
    const list = (err.details as { problems: Array<{ path: string; message: string }> }).problems;
    return list.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

function setupDir(t: TestContext): { path: string } {
  const path = tempDir(t, 'halo-stonith-config-');
  writePrivate(join(path, 'cluster.key'), 'k'.repeat(64));
  writePrivate(join(path, 'ipmi.pass'), 'pw');
  return { path };
}

describe('fencing: stonith config', () => {
  test('an aws device with every group node loads, with defaults filled in', (t) => {
    const dir = setupDir(t);
    const d = doc({
      fencing: 'stonith',
      stonith: {
        device: { type: 'aws', instances: { n1: 'i-0123456789abcdef0', n2: 'i-0123456789abcdef1' } },
        randomDelay: '5s',
      },
      finalAction: 'stop-groups',
    });
    const cfg = parseConfig(stringify(d), join(dir.path, 'halo.yaml'), { baseDir: dir.path });
    const g = cfg.groups[0]!;
    assert.equal(g.fencing, 'stonith');
    assert.deepEqual(g.stonith, {
      device: {
        type: 'aws',
        instances: { n1: 'i-0123456789abcdef0', n2: 'i-0123456789abcdef1' },
        callTimeoutMs: 5000,
        pollIntervalMs: 2000,
      },
      timeoutMs: 60_000,
      delayMs: {},
      randomDelayMs: 5000,
      retryIntervalMs: 10_000,
    });
    assert.deepEqual(g.finalAction, { type: 'stop-groups' });
  });

  test('a command device resolves its password file next to the config', (t) => {
    const dir = setupDir(t);
    const d = doc({
      fencing: 'stonith',
      stonith: {
        device: {
          type: 'command',
          agent: '/usr/sbin/fence_ipmilan',
          options: { username: 'admin', lanplus: 1 },
          nodes: { n1: { ip: '10.0.0.11' }, n2: { ip: '10.0.0.12' } },
          passwordFile: 'ipmi.pass',
        },
        delay: { n1: '10s' },
      },
    });
    const g = parseConfig(stringify(d), join(dir.path, 'halo.yaml'), { baseDir: dir.path }).groups[0]!;
    assert.equal(g.stonith?.device.type, 'command');
    assert.deepEqual(g.stonith?.delayMs, { n1: 10_000 });
    assert.equal((g.stonith!.device as { passwordFile: string }).passwordFile, join(dir.path, 'ipmi.pass'));
    assert.deepEqual((g.stonith!.device as { options: unknown }).options, {
      username: 'admin',
      lanplus: '1',
    });
  });

  test('configs without stonith or a final action keep their shape (and so their epoch)', (t) => {
    const dir = setupDir(t);
    const g = parseConfig(stringify(doc({})), join(dir.path, 'halo.yaml'), { baseDir: dir.path }).groups[0]!;
    assert.equal('stonith' in g, false);
    assert.equal('finalAction' in g, false);
  });

  test('every mistake is named with its path', (t) => {
    const dir = setupDir(t);
    writeFileSync(join(dir.path, 'open.pass'), 'pw', { mode: 0o644 });
    assert.deepEqual(problems(doc({ fencing: 'stonith' }), dir.path), [
      'groups.web.stonith: fencing: stonith needs a stonith block with a device (docs/fencing.md)',
    ]);
    assert.deepEqual(
      problems(doc({ stonith: { device: { type: 'aws', instances: {} } } }), dir.path).filter((p) =>
        p.startsWith('groups.web.stonith:'),
      ),
      ['groups.web.stonith: stonith is used only with fencing: stonith; set that or remove this key'],
    );
    const found = problems(
      doc({
        fencing: 'stonith',
        stonith: {
          device: {
            type: 'command',
            agent: '/usr/sbin/fence_ipmilan',
            options: { password: 'secret' },
            nodes: { n1: {}, n3: {} },
            passwordFile: 'open.pass',
          },
          delay: { n9: '1s' },
        },
      }),
      dir.path,
    );
    const has = (re: RegExp) =>
      assert.ok(
        found.some((p) => re.test(p)),
        `${re} in ${JSON.stringify(found, null, 1)}`,
      );
    has(/^groups\.web\.stonith\.device\.options\.password: .*passwordFile only/);
    has(/^groups\.web\.stonith\.device\.nodes\.n2: node n2 of group web has no entry here/);
    has(/^groups\.web\.stonith\.device\.nodes\.n3: "n3" is not a node of group web/);
    has(/^groups\.web\.stonith\.delay\.n9: "n9" is not a node of group web/);
    has(/^groups\.web\.stonith\.device\.passwordFile: .*other users can read it/);
    assert.deepEqual(
      problems(
        doc({
          fencing: 'stonith',
          stonith: { device: { type: 'aws', instances: { n1: 'i-1', n2: 'i-0123456789abcdef1' } } },
        }),
        dir.path,
      ),
      ['groups.web.stonith.device.instances.n1: expected an EC2 instance id like i-0123456789abcdef0'],
    );
    assert.deepEqual(problems(doc({ finalAction: 'reboot' }), dir.path), [
      'groups.web.finalAction: expected none, stop-groups or { command, timeout }',
    ]);
  });
});
