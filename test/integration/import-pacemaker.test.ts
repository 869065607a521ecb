import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { HALO_CLI } from '../support/cluster.js';
import { needPeer } from '../support/requirements.js';
import { tempDir } from '../support/temp-dir.js';
import { groupsCluster } from './groups-support.js';

/**
 * `halo import pacemaker` on a CIB written by the real `pcs` in file mode (Debian's pcs and
 * pacemaker-cli-utils, issue #18): a group of two heartbeat/Dummy agents, a lone Dummy the
 * group is colocated with and ordered after, a location preference and the unconvertible
 * (a clone, a cluster property). The config it writes passes `halo config validate` and runs
 * on two agents and a witness over loopback: the three Dummies start on the preferred node,
 * in order.
 */

const tools = () =>
  ['/usr/sbin/pcs', '/usr/sbin/cibadmin'].every((p) => existsSync(p)) &&
  existsSync('/usr/lib/ocf/resource.d/heartbeat/Dummy');

function sh(cwd: string, argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, `${argv.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

test('a CIB made by pcs -f imports into a config that validates and runs in a loopback cluster; the rest is listed line by line', async (t) => {
  if (!needPeer(t, 'pcs, cibadmin (pacemaker-cli-utils) and resource-agents', tools())) return;
  const dir = tempDir(t, 'halo-import-pcs-');
  writeFileSync(join(dir, 'cib.xml'), sh(dir, ['cibadmin', '--empty']));
  const pcs = (...args: string[]) => sh(dir, ['pcs', '-f', 'cib.xml', ...args]);
  pcs('resource', 'create', 'd1', 'ocf:heartbeat:Dummy', 'fake=abc', '--group', 'web');
  pcs('resource', 'create', 'd2', 'ocf:heartbeat:Dummy', '--group', 'web');
  pcs('resource', 'create', 'db', 'ocf:heartbeat:Dummy', 'op', 'monitor', 'interval=2s', 'timeout=15s');
  pcs('constraint', 'colocation', 'add', 'web', 'with', 'db', 'INFINITY');
  pcs('constraint', 'order', 'start', 'db', 'then', 'start', 'web');
  pcs('constraint', 'location', 'db', 'prefers', 'n2=100');
  pcs('resource', 'create', 'pinger', 'ocf:pacemaker:ping', 'host_list=127.0.0.1', 'clone');
  pcs('property', 'set', 'stonith-enabled=false');
  const cib = readFileSync(join(dir, 'cib.xml'), 'utf8');
  const lineOf = (needle: string) => cib.split('\n').findIndex((l) => l.includes(needle)) + 1;

  writeFileSync(join(dir, 'cluster.key'), 'k'.repeat(48), { mode: 0o600 });
  const imported = spawnSync(
    process.execPath,
    [
      HALO_CLI,
      'import',
      'pacemaker',
      'cib.xml',
      '--node',
      'n1=127.0.0.1',
      '--node',
      'n2=127.0.0.2',
      '--witness',
      '127.0.0.3',
      '--cluster-name',
      'pcs',
      '--secret-file',
      'cluster.key',
      '-o',
      'halo.yaml',
    ],
    { cwd: dir, encoding: 'utf8' },
  );
  assert.equal(imported.status, 0, imported.stderr);
  const report = imported.stderr.split('\n');
  assert.ok(
    report.includes(
      `not converted: cib.xml:${lineOf('<clone id="pinger-clone"')}: clone pinger-clone: clones run on every node at once; a Halo group runs on one node (run it as a systemd service on each node instead)`,
    ),
    imported.stderr,
  );
  assert.ok(
    report.some((l) =>
      l.startsWith(
        `not converted: cib.xml:${lineOf('name="stonith-enabled"')}: cluster property stonith-enabled=false`,
      ),
    ),
    imported.stderr,
  );
  assert.match(
    imported.stderr,
    /^1 group\(s\) converted into halo\.yaml; 2 item\(s\) not converted \(listed above\)$/m,
  );
  const text = readFileSync(join(dir, 'halo.yaml'), 'utf8');
  assert.match(text, /^# not converted: cib\.xml:\d+: clone pinger-clone/m, 'the report is kept in the file');

  const validated = spawnSync(process.execPath, [HALO_CLI, 'config', 'validate', 'halo.yaml'], {
    cwd: dir,
    encoding: 'utf8',
  });
  assert.equal(validated.status, 0, validated.stderr);
  assert.match(validated.stdout, /valid — cluster pcs: 2 nodes \+ witness, 1 group, 3 resources, 3 monitors/);

  const config = parse(text);
  const web = config.groups.web;
  assert.deepEqual(web.nodes, ['n2', 'n1'], 'db prefers n2');
  assert.deepEqual(Object.keys(web.resources), ['db', 'd1', 'd2']);
  assert.deepEqual(web.resources.db, {
    type: 'ocf',
    agent: 'ocf:heartbeat:Dummy',
    timeout: { check: '15s', start: '20s', stop: '20s' },
  });
  assert.deepEqual(web.resources.d1.params, { fake: 'abc' });
  assert.deepEqual(web.resources.d1.after, ['db']);
  assert.deepEqual(web.resources.d2.after, ['d1']);
  assert.equal(web.monitors['db-monitor'].interval, '2s');

  // The imported groups on a real cluster.
  const c = await groupsCluster(t, { nodes: ['n1', 'n2'], groups: config.groups });
  const runs = (node: string, res: string) =>
    existsSync(join(c.dir, `state-${node}`, 'ocf-rsctmp', `Dummy-web-${res}.state`));
  await c.startAgent('n2');
  await c.startAgent('n1');
  await c.waitFor(
    'the three Dummies running on n2',
    () => ['db', 'd1', 'd2'].every((r) => runs('n2', r)),
    30_000,
  );
  await c.waitFor('n1 sees web on n2', async () => (await c.status('n1')).groups[0].owner === 'n2');
  assert.ok(!['db', 'd1', 'd2'].some((r) => runs('n1', r)));
  await c.waitFor('the monitors passing', async () =>
    (await c.status('n2')).groups[0].monitors.every((m: { state: string }) => m.state === 'passing'),
  );
  const started = c
    .events('n2')
    .filter((e) => e.type === 'resource' && / running$/.test(e.message))
    .map((e) => e.resource);
  assert.deepEqual(started.slice(0, 3), ['db', 'd1', 'd2'], 'started in the imported order');
});
