import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningCluster } from '../support/cluster.js';
import { copiesSettle, sampleCopies } from '../support/node-copy-sampler.js';
import { openApiValidator } from './api-helpers.js';
import { groupsCluster } from './groups-support.js';

/**
 * Maintenance mode on real agents over loopback (embedded backend, two nodes and a witness):
 * the acceptance of the issue. A group in maintenance survives a kill -9 of its owner's agent
 * without being stopped, started or moved: not by the deadman helper (it holds no fence
 * actions for the group), not by the lifeline watcher once the helper exits (the group's hold
 * file spares it), not by the peer (nobody competes for an unmanaged group), not by the
 * restarted agent (no probe, no start). Leaving maintenance probes first and ends with exactly
 * one copy. Every node's copies of the `process` resource are sampled every ~12 ms.
 */

const GROUP_EVENTS = /^(starting g|stopping g|g started|g stopped|probe: )/;
const groupActions = (c: RunningCluster, node: string, afterSeq: number) =>
  c
    .events(node)
    .filter((e) => e.seq > afterSeq && GROUP_EVENTS.test(e.message))
    .map((e) => `${node}: ${e.message}`);
const lastSeq = (c: RunningCluster, node: string) => c.events(node).at(-1)?.seq ?? 0;

test('a group in maintenance survives a kill -9 of its owner agent and its restart untouched; maintenance off probes first and leaves one copy', async (t) => {
  const sampler = sampleCopies();
  t.after(() => sampler.stop());
  const c = await groupsCluster(t, {
    nodes: ['n1', 'n2'],
    groups: {
      g: {
        nodes: ['n1', 'n2'],
        resources: { app: { type: 'process', command: sampler.command, startGrace: '200ms' } },
      },
    },
  });
  await c.startAgent('n1');
  await copiesSettle(sampler, ['n1'], 'the group running on n1', { stableMs: 300 });
  await c.startAgent('n2');
  await c.waitFor('n2 out of quarantine', async () => !(await c.status('n2')).quarantined);

  const on = await c.cli('n1', ['maintenance', 'on', 'g']);
  assert.equal(on.code, 0, on.stderr);
  assert.match(on.stdout, /^group g in maintenance: its resources are left as they are/);
  for (const node of ['n1', 'n2'])
    await c.waitFor(`${node} sees g in maintenance`, async () => {
      const s = await c.status(node);
      return s.groups[0].maintenance === true && s.maintenance === false;
    });
  const shown = await c.cli('n2', ['status']);
  assert.match(shown.stdout, /group g: MAINTENANCE/);
  assert.match(
    String((await c.api('n2', 'GET', '/metrics')).body),
    /^halo_group_maintenance\{group="g"\} 1$/m,
  );
  const leaseMs = (await c.status('n1')).timing.leaseMs as number;

  // kill -9 of the owner's agent: its helper sees the pipe close and fences what it holds.
  const from = sampler.samples.length;
  const seq2 = lastSeq(c, 'n2');
  await c.kill('n1', 'SIGKILL');
  await sleep(2 * leaseMs + 500);
  const during = sampler.samples.slice(from);
  assert.ok(during.length > 50, `sampled ${during.length} times`);
  assert.deepEqual(
    during.filter((s) => s.nodes.join(',') !== 'n1').slice(0, 3),
    [],
    'the copy on n1 ran on alone the whole time',
  );
  assert.deepEqual(groupActions(c, 'n2', seq2), [], 'n2 neither started nor probed g');

  // The agent comes back: still in maintenance, it probes nothing and starts nothing.
  const seq1 = lastSeq(c, 'n1');
  await c.startAgent('n1');
  await c.waitFor('n1 out of quarantine', async () => !(await c.status('n1')).quarantined);
  await sleep(1000);
  assert.deepEqual(sampler.current(), ['n1']);
  assert.deepEqual(groupActions(c, 'n1', seq1), [], 'the restarted agent left g alone');
  assert.deepEqual(
    sampler.samples
      .slice(from)
      .filter((s) => s.nodes.join(',') !== 'n1')
      .slice(0, 3),
    [],
  );

  const off = await c.cli('n2', ['maintenance', 'off', 'g']);
  assert.equal(off.code, 0, off.stderr);
  await copiesSettle(sampler, 'any one', 'the group running exactly once', { stableMs: 1500 });
  const settled = await c.waitFor('g active on one node', async () => {
    const owner = (await c.status('n2')).groups[0].owner;
    if (owner === null) return undefined;
    // A group's phase is its owner's own: ask the owner.
    const g = (await c.status(owner)).groups[0];
    return g.state === 'running' && !g.maintenance ? g : undefined;
  });
  assert.deepEqual(sampler.current(), [settled.owner]);
  assert.ok(
    c.events('n1').some((e) => e.message === 'g left maintenance: probing it before it is managed again'),
  );

  // The cluster-wide switch, through the API, as documented.
  const { validate } = await openApiValidator(`http://127.0.0.1:${c.ports['n2']!.api}`);
  const cluster = await c.api('n2', 'POST', '/v1/cluster/maintenance', { on: true });
  assert.equal(cluster.status, 202);
  validate('/v1/cluster/maintenance', 'post', 202, cluster.body);
  const s = await c.waitFor('cluster maintenance shown', async () => {
    const st = await c.status('n2');
    return st.maintenance && st.groups[0].maintenance ? st : undefined;
  });
  validate('/v1/status', 'get', 200, s);
  const missing = await c.api('n2', 'POST', '/v1/groups/nope/maintenance', { on: true });
  assert.equal(missing.status, 404);
  validate('/v1/groups/{group}/maintenance', 'post', 404, missing.body);
  const bad = await c.api('n2', 'POST', '/v1/groups/g/maintenance', {});
  assert.equal(bad.status, 400);
  const clusterOff = await c.cli('n2', ['maintenance', 'off']);
  assert.equal(clusterOff.code, 0, clusterOff.stderr);
  assert.match(clusterOff.stdout, /^the cluster out of maintenance/);
  await copiesSettle(sampler, 'any one', 'still exactly one copy', { stableMs: 500 });

  await sampler.stop();
  assert.deepEqual(sampler.overlaps().slice(0, 3), [], 'never two copies at once');
});
