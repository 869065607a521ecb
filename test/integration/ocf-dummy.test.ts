import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { HALO_CLI, type RunningCluster } from '../support/cluster.js';
import { needPeer } from '../support/requirements.js';
import { tempDir } from '../support/temp-dir.js';
import { groupsCluster, twoAgents } from './groups-support.js';

/**
 * Debian's real OCF agent heartbeat/Dummy (package resource-agents) run by Halo's `ocf`
 * resource on two agents and a witness over loopback (issue #18). Dummy keeps its state in a
 * file under HA_RSCTMP, which Halo points at each node's own state dir, so the file shows
 * where it runs: `start` creates it, `stop` removes it, `monitor` says 0 while it exists and
 * 7 (not running) once it is gone.
 */

const DUMMY = '/usr/lib/ocf/resource.d/heartbeat/Dummy';
const haveAgents = () => existsSync(DUMMY);

const stateFile = (c: RunningCluster, node: string) =>
  join(c.dir, `state-${node}`, 'ocf-rsctmp', 'Dummy-app-d.state');
const runsOn = (c: RunningCluster, node: string) => existsSync(stateFile(c, node));

test('heartbeat/Dummy under Halo: a move, kill -9 of the owner agent, and a failing monitor restart it then fail it over', async (t) => {
  if (!needPeer(t, 'resource-agents (/usr/lib/ocf/resource.d/heartbeat/Dummy)', haveAgents())) return;
  const c = await groupsCluster(t, {
    nodes: ['n1', 'n2'],
    groups: {
      app: {
        nodes: ['n1', 'n2'],
        resources: { d: { type: 'ocf', agent: 'ocf:heartbeat:Dummy', params: { fake: 'x' } } },
        monitors: {
          watch: {
            type: 'resource',
            target: 'd',
            interval: '300ms',
            timeout: '5s',
            retries: 0,
            onFailure: { restart: 1, then: 'failover' },
          },
        },
      },
    },
  });
  await twoAgents(c, () => runsOn(c, 'n1'));
  const owner = async (node: string) => (await c.status(node)).groups[0].owner;

  // A planned move: stop on n1 (the state file goes), start on n2.
  const moved = await c.cli('n1', ['move', 'app', 'n2']);
  assert.equal(moved.code, 0, moved.stderr);
  await c.waitFor('Dummy running on n2 only', () => runsOn(c, 'n2') && !runsOn(c, 'n1'));
  await c.waitFor('n2 owns app', async () => (await owner('n1')) === 'n2');

  // kill -9 of the owner's agent: its deadman helper runs the agent's stop, n1 takes over.
  await c.kill('n2', 'SIGKILL');
  await c.waitFor('the deadman stopped Dummy on n2', () => !runsOn(c, 'n2'));
  await c.waitFor('Dummy running on n1', () => runsOn(c, 'n1'), 30_000);
  await c.waitFor('n1 owns app', async () => (await owner('n1')) === 'n1');
  await c.startAgent('n2');
  await c.waitFor('n1 sees n2 up', async () => (await c.status('n1')).nodes[1].up);
  await c.waitFor(
    'the monitor passing on n1',
    async () => (await c.status('n1')).groups[0].monitors[0].state === 'passing',
  );

  // The monitor says 7 (not running): one restart on n1 …
  rmSync(stateFile(c, 'n1'));
  await c.waitFor('d restarted on n1', () =>
    c.events('n1').some((e) => e.type === 'recovery' && e.message === 'd restarted'),
  );
  assert.ok(runsOn(c, 'n1'), 'the restart started Dummy again on n1');
  assert.ok(!runsOn(c, 'n2'));
  // … and the second failure fails the group over to n2.
  rmSync(stateFile(c, 'n1'));
  await c.waitFor('Dummy running on n2', () => runsOn(c, 'n2'), 30_000);
  await c.waitFor('n2 owns app', async () => (await owner('n2')) === 'n2');
  assert.ok(!runsOn(c, 'n1'));

  const n1 = c.events('n1');
  const failed = n1.filter(
    (e) => e.type === 'monitor' && e.monitor === 'app/watch' && /failed/.test(e.message),
  );
  assert.ok(failed.length >= 2, 'the monitor failed twice');
  assert.match(
    failed[0].output,
    /stopped: monitor: exited with 7 \(OCF_NOT_RUNNING: not running\): No process state file found/,
  );
  assert.ok(n1.some((e) => e.type === 'recovery' && /failover of app decided/.test(e.message)));
  assert.deepEqual((await c.status('n2')).groups[0].intent.failedNodes, ['n1']);
});

test('halo config validate rejects a wrong OCF parameter, naming the parameter and the agent; halo resource describe lists what it accepts', async (t) => {
  if (!needPeer(t, 'resource-agents (/usr/lib/ocf/resource.d/heartbeat/Dummy)', haveAgents())) return;
  const dir = tempDir(t, 'halo-ocf-validate-');
  writeFileSync(join(dir, 'cluster.key'), 'k'.repeat(48), { mode: 0o600 });
  const file = join(dir, 'halo.yaml');
  writeFileSync(
    file,
    [
      'cluster: { name: t, secretFile: cluster.key }',
      'nodes:',
      '  n1: { address: 127.0.0.1, peerPort: 7001 }',
      '  n2: { address: 127.0.0.1, peerPort: 7002 }',
      'witness: { address: 127.0.0.1, port: 7003 }',
      'groups:',
      '  app:',
      '    nodes: [n1, n2]',
      '    resources:',
      '      d:',
      '        type: ocf',
      '        agent: ocf:heartbeat:Dummy',
      '        params: { stat: /tmp/x }',
      '',
    ].join('\n'),
  );
  const run = spawnSync(process.execPath, [HALO_CLI, 'config', 'validate', file], { encoding: 'utf8' });
  assert.equal(run.status, 2, run.stdout + run.stderr);
  assert.match(
    run.stderr,
    /halo\.yaml:13:\d+: groups\.app\.resources\.d\.params\.stat: unknown parameter "stat" of OCF agent ocf:heartbeat:Dummy \(did you mean "state"\?\); its parameters: state, fake/,
  );
  writeFileSync(file, readFileSync(file, 'utf8').replace('{ stat:', '{ state:'));
  const ok = spawnSync(process.execPath, [HALO_CLI, 'config', 'validate', file], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);

  // What the agent accepts, from its meta-data.
  const described = spawnSync(process.execPath, [HALO_CLI, 'resource', 'describe', 'ocf:heartbeat:Dummy'], {
    encoding: 'utf8',
  });
  assert.equal(described.status, 0, described.stderr);
  assert.match(described.stdout, /^ {2}state \(string, default .*, unique\) — State file$/m);
  assert.match(described.stdout, /^ {2}monitor \(timeout 20s, interval 10s\)$/m);
});
