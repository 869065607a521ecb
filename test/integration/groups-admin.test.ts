import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningCluster } from '../support/cluster.js';
import { groupsCluster, twoAgents } from './groups-support.js';

/**
 * Admin operations on real processes over loopback (issue #4): run-time parameter changes
 * (live vs. pending until restart) and `halo stop`/`halo start`, whose intent is cluster state
 * that survives restarting the agent that held the group.
 */

const value = (c: RunningCluster, node: string) => {
  const file = join(c.dir, `r.${node}`);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : null;
};

async function cluster(t: TestContext): Promise<RunningCluster> {
  const c = await groupsCluster(t, {
    nodes: ['n1', 'n2'],
    groups: {
      app: {
        nodes: ['n1', 'n2'],
        resources: {
          r: {
            type: 'script',
            start: 'echo v1 > "r.$HALO_NODE"',
            stop: 'rm -f "r.$HALO_NODE"',
            timeout: { stop: '2s' },
          },
        },
      },
    },
  });
  await twoAgents(c, () => value(c, 'n1') === 'v1');
  return c;
}

test('a changed restart parameter stays pending until the resource restarts, while a live one applies at once', async (t) => {
  const c = await cluster(t);
  const path = '/v1/groups/app/resources/r/params';
  const v2 = 'echo v2 > "r.$HALO_NODE"';

  const changed = await c.api('n1', 'PATCH', path, { start: v2 });
  assert.equal(changed.status, 200);
  assert.deepEqual(changed.body, { live: [], pending: ['start'] });
  let params = (await c.api('n1', 'GET', path)).body;
  assert.equal(params.params.start, 'echo v1 > "r.$HALO_NODE"', 'the running resource keeps its start');
  assert.deepEqual(params.pending, { start: v2 });
  let g = (await c.status('n1')).groups[0];
  assert.deepEqual(g.pending, { r: { start: v2 } });
  assert.deepEqual(g.resources[0].pendingParams, { start: v2 });

  const live = await c.api('n1', 'PATCH', path, { timeout: { check: '3s' } });
  assert.deepEqual(live.body, { live: ['timeout'], pending: [] });
  params = (await c.api('n1', 'GET', path)).body;
  assert.deepEqual(params.params.timeout, { start: 60_000, stop: 2000, check: 3000 }, 'only check changed');
  assert.deepEqual(params.pending, { start: v2 });
  assert.equal(value(c, 'n1'), 'v1', 'nothing restarted');

  const bad = await c.api('n1', 'PATCH', path, { timeout: { check: 'soon' } });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'HALO_E_BAD_REQUEST');

  // Restart: stop the group, then start it on n1 again; the pending start applies then.
  assert.equal((await c.api('n1', 'POST', '/v1/groups/app/stop', {})).status, 202);
  await c.waitFor('app stopped', () => value(c, 'n1') === null);
  assert.equal((await c.api('n1', 'POST', '/v1/groups/app/start', { on: 'n1' })).status, 202);
  await c.waitFor('app restarted with the new start', () => value(c, 'n1') === 'v2');
  params = (await c.api('n1', 'GET', path)).body;
  assert.deepEqual(params.pending, {});
  assert.equal(params.params.start, v2);
  g = (await c.status('n1')).groups[0];
  assert.deepEqual(g.pending, {});
  await c.waitFor('the event of the applied parameters', () =>
    c.events('n1').some((e) => e.type === 'params' && /pending parameters applied: start/.test(e.message)),
  );
  assert.equal(value(c, 'n2'), null);
});

test('halo stop keeps a group stopped on every node across a restart of the agent that held it, until halo start', async (t) => {
  const c = await cluster(t);
  const stop = await c.cli('n2', ['stop', 'app']);
  assert.equal(stop.code, 0, stop.stderr);
  await c.waitFor('app stopped on n1', () => value(c, 'n1') === null);
  for (const node of ['n1', 'n2']) {
    const g = await c.waitFor(`${node} sees app stopped`, async () => {
      const s = (await c.status(node)).groups[0];
      return s.intent.state === 'stopped' && s.owner === null ? s : false;
    });
    assert.equal(g.state, 'stopped');
  }

  await c.kill('n1', 'SIGTERM');
  await c.startAgent('n1');
  await c.waitFor('n1 out of quarantine', async () => !(await c.status('n1')).quarantined);
  await sleep(1000); // two lease lengths: time for anyone to (wrongly) start it
  assert.equal(value(c, 'n1'), null);
  assert.equal(value(c, 'n2'), null, 'n2 did not take the stopped group while n1 restarted');
  assert.equal((await c.status('n1')).groups[0].intent.state, 'stopped', 'n1 remembers the stop');

  const start = await c.api('n1', 'POST', '/v1/groups/app/start', {});
  assert.equal(start.status, 202);
  await c.waitFor('app running again', () => value(c, 'n1') === 'v1' || value(c, 'n2') === 'v1');
  const s = (await c.status('n1')).groups[0];
  assert.equal(s.intent.state, 'started');
});
