import assert from 'node:assert/strict';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { ConfigStore } from '../../../src/agent/config-store.js';
import { loadConfig, parseConfig } from '../../../src/engine/config-catalog.js';
import { isHaloError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/log.js';
import { tempDir, writePrivate } from '../../support/temp-dir.js';

const yaml = (interval = '1s', name = 'c1', nodes = ['n1', 'n2']) => `cluster:
  name: ${name}
  secretFile: cluster.key
nodes:
${nodes.map((n, i) => `  ${n}: { address: 127.0.0.${i + 1} }`).join('\n')}
witness: { address: 127.0.0.9, port: 7402 }
groups:
  web:
    nodes: [${nodes.join(', ')}]
    resources:
      s: { type: script, start: 'true', stop: 'true' }
    monitors:
      m: { type: resource, target: s, interval: ${interval} }
`;

/** A node's config dir with its key, its running config file and a store for node n1. */
function setup(t: TestContext, opts: { link?: boolean } = {}) {
  const dir = tempDir(t, 'halo-config-store-');
  writePrivate(join(dir, 'cluster.key'), 'k'.repeat(40));
  let file = join(dir, 'halo.yaml');
  writeFileSync(file, yaml(), { mode: 0o640 });
  if (opts.link) {
    const link = join(dir, 'current.yaml');
    symlinkSync(file, link);
    file = link;
  }
  const running = loadConfig(file);
  const events: string[] = [];
  const store = new ConfigStore({
    running,
    node: 'n1',
    log: silentLogger,
    onStored: (r) => events.push(r.storedEpoch),
  });
  return { dir, file, running, store, events };
}

const epochOf = (text: string) => parseConfig(text, 'x', { checkFiles: false }).epoch.toString(16);

async function rejectsWith(fn: () => Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(fn, (err: unknown) => {
    assert.ok(isHaloError(err));
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

test('a fresh agent runs what its file holds: nothing is pending', async (t) => {
  const { store, running, dir } = setup(t);
  const v = await store.version();
  assert.equal(v.runningEpoch, running.epoch.toString(16));
  assert.equal(v.storedEpoch, v.runningEpoch);
  assert.equal(v.pending, false);
  assert.equal(v.file, join(dir, 'halo.yaml'));
});

test('storing a new version replaces the file, keeps the old as .prev with its mode, and is pending', async (t) => {
  const { store, file, events } = setup(t);
  const next = yaml('2s');
  const r = await store.store(next, epochOf(next));
  assert.equal(r.changed, true);
  assert.equal(r.pending, true);
  assert.equal(r.storedEpoch, epochOf(next));
  assert.equal(readFileSync(file, 'utf8'), next);
  assert.equal(readFileSync(`${file}.prev`, 'utf8'), yaml());
  assert.equal(statSync(file).mode & 0o777, 0o640);
  assert.equal(statSync(`${file}.prev`).mode & 0o777, 0o640);
  assert.deepEqual(
    readdirSync(join(file, '..')).filter((f) => f.endsWith('.tmp')),
    [],
    'no temp file is left',
  );
  assert.deepEqual(await store.version(), {
    file,
    runningEpoch: r.runningEpoch,
    storedEpoch: r.storedEpoch,
    pending: true,
    // Only a monitor's interval changed: the epoch is the same, `halo config apply` takes it.
    reloadable: true,
  });
  assert.deepEqual(events, [r.storedEpoch]);
});

test('pushing the text the file already holds writes nothing and keeps .prev', async (t) => {
  const { store, file, events } = setup(t);
  const next = yaml('2s');
  await store.store(next, epochOf(next));
  const r = await store.store(next, epochOf(next));
  assert.equal(r.changed, false);
  assert.equal(readFileSync(`${file}.prev`, 'utf8'), yaml(), '.prev is still the version before');
  assert.equal(events.length, 1);
});

test('a dry run checks the config but writes nothing', async (t) => {
  const { store, file } = setup(t);
  const next = yaml('2s');
  const r = await store.store(next, epochOf(next), { dryRun: true });
  assert.equal(r.changed, true);
  assert.equal(readFileSync(file, 'utf8'), yaml());
  assert.ok(!existsSync(`${file}.prev`));
});

test('refused pushes write nothing: invalid, another cluster, without this node, another epoch', async (t) => {
  const { store, file } = setup(t);
  const bad = yaml('soon').replace('secretFile', 'colour: blue\n  secretFile');
  await rejectsWith(
    () => store.store(bad, '1'),
    'HALO_E_CONFIG_INVALID',
    /2 problems[\s\S]*colour[\s\S]*interval/,
  );
  const other = yaml('1s', 'c2');
  await rejectsWith(() => store.store(other, epochOf(other)), 'HALO_E_CONFLICT', /runs cluster "c1".*"c2"/);
  const without = yaml('1s', 'c1', ['n2', 'n3']);
  await rejectsWith(
    () => store.store(without, epochOf(without)),
    'HALO_E_CONFLICT',
    /does not list this node \(n1\)/,
  );
  const next = yaml('2s');
  await rejectsWith(
    () => store.store(next, 'abc'),
    'HALO_E_CONFLICT',
    /computes epoch .* the CLI computed abc/,
  );
  assert.equal(readFileSync(file, 'utf8'), yaml());
  assert.ok(!existsSync(`${file}.prev`));
});

test('the key file must exist on this node, next to its config file', async (t) => {
  const { store, dir } = setup(t);
  const next = yaml('2s').replace('secretFile: cluster.key', 'secretFile: keys/other.key');
  await rejectsWith(
    () => store.store(next, epochOf(next)),
    'HALO_E_CONFIG_INVALID',
    /other\.key does not exist/,
  );
  mkdirSync(join(dir, 'keys'));
  writePrivate(join(dir, 'keys', 'other.key'), 'k'.repeat(40));
  assert.equal((await store.store(next, epochOf(next))).changed, true);
});

test('a symlinked config file is replaced at its target, and the link stays', async (t) => {
  const { store, file, dir } = setup(t, { link: true });
  const next = yaml('2s');
  await store.store(next, epochOf(next));
  assert.equal(readFileSync(join(dir, 'halo.yaml'), 'utf8'), next);
  assert.ok(lstatSync(file).isSymbolicLink(), 'the link is still a link');
  assert.equal(readFileSync(file, 'utf8'), next);
  assert.ok(existsSync(join(dir, 'halo.yaml.prev')));
});

test('a file broken by hand shows as pending with the reason a restart would fail', async (t) => {
  const { store, file } = setup(t);
  writeFileSync(file, 'cluster: [');
  const v = await store.version();
  assert.equal(v.storedEpoch, null);
  assert.equal(v.pending, true);
  assert.match(v.storedError ?? '', /YAML syntax/);
});
