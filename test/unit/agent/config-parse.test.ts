import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { parseConfigOffThread } from '../../../src/agent/config-parse.js';
import { parseConfig } from '../../../src/engine/config-catalog.js';
import { type HaloError, isHaloError } from '../../../src/errors.js';
import { tempDir, writePrivate } from '../../support/temp-dir.js';

const config = (extra = '') => `cluster:
  name: c1
  secretFile: cluster.key
${extra}nodes:
  n1: { address: 127.0.0.1 }
  n2: { address: 127.0.0.2 }
witness: { address: 127.0.0.9, port: 7402 }
groups:
  web:
    nodes: [n1, n2]
    resources:
      s: { type: script, start: 'true', stop: 'true' }
      p: { type: process, command: [sleep, 1000], user: nobody }
    monitors:
      m: { type: resource, target: s, interval: 2s }
`;

test('the thread gives the config parseConfig gives', async (t) => {
  const dir = tempDir(t, 'halo-config-parse-');
  writePrivate(join(dir, 'cluster.key'), 'k'.repeat(40));
  const file = join(dir, 'halo.yaml');
  const options = { baseDir: dir, absPath: file };
  assert.deepEqual(await parseConfigOffThread(config(), file, options), parseConfig(config(), file, options));
});

test('a refused config gives the same HaloError: code, message (file, line, path, expectation), details', async (t) => {
  const dir = tempDir(t, 'halo-config-parse-');
  const file = join(dir, 'halo.yaml');
  // Two problems and a missing key file (the file checks run in the thread too).
  const bad = config('  colour: blue\n').replace('interval: 2s', 'interval: soon');
  let expected: HaloError | undefined;
  try {
    parseConfig(bad, file, { baseDir: dir });
  } catch (err) {
    expected = err as HaloError;
  }
  assert.ok(isHaloError(expected));
  await assert.rejects(parseConfigOffThread(bad, file, { baseDir: dir }), (err: unknown) => {
    assert.ok(isHaloError(err), 'a HaloError again, so the API answers 400 with its code');
    assert.equal(err.code, 'HALO_E_CONFIG_INVALID');
    assert.equal(err.message, expected!.message);
    assert.deepEqual(err.details, expected!.details);
    assert.match(err.message, new RegExp(`${file}:4:11: cluster\\.colour: unknown key "colour"`));
    assert.match(err.message, /cluster\.key does not exist/);
    return true;
  });
  // The same small heap is enough for a small config: it was this config's size.
  const small = stringify({
    cluster: { name: 'c1', secretFile: 'k', unsafe: true },
    nodes: { n1: { address: '127.0.0.1' } },
  });
  assert.equal(
    (await parseConfigOffThread(small, '/etc/halo/halo.yaml', { checkFiles: false }, 16)).cluster.name,
    'c1',
  );
});

test('a config that needs more memory than the thread may use is refused, and the caller lives on', async () => {
  const groups: Record<string, unknown> = {};
  for (let i = 0; i < 8000; i++)
    groups[`g${i}`] = {
      nodes: ['n1'],
      resources: { s: { type: 'script', start: `echo ${i}`, stop: 'true' } },
    };
  const text = stringify({
    cluster: { name: 'c1', secretFile: 'k', unsafe: true },
    nodes: { n1: { address: '127.0.0.1' } },
    groups,
  });
  await assert.rejects(
    parseConfigOffThread(text, '/etc/halo/halo.yaml', { checkFiles: false }, 16),
    (err: unknown) => {
      assert.ok(isHaloError(err));
      assert.equal(err.code, 'HALO_E_CONFIG_INVALID');
      assert.match(
        err.message,
        /^\/etc\/halo\/halo\.yaml: 1 problem:\n {2}\/etc\/halo\/halo\.yaml: \(top level\): checking this configuration needs more than 16 MiB of memory; expected a smaller file/,
      );
      return true;
    },
  );
});
