import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningCluster } from '../support/cluster.js';
import { openApiValidator } from './api-helpers.js';
import { groupsCluster, twoAgents } from './groups-support.js';

/**
 * `halo node standby` on real agents over loopback (issue #16): two nodes and a witness, two
 * groups on n1. The real CLI drains n1; a sampler watches the marker files every resource
 * writes while it runs, so a group running on both nodes, or on n1 again, is seen.
 */

const GROUPS = ['app', 'db'];
const runsOn = (c: RunningCluster, group: string, node: string) =>
  existsSync(join(c.dir, `${group}.${node}`));

/** Samples every 10 ms until stopped: never both nodes at once, and (once armed) never n1. */
function sampler(c: RunningCluster) {
  const problems: string[] = [];
  let n1Forbidden = false;
  let samples = 0;
  const timer = setInterval(() => {
    samples++;
    for (const g of GROUPS) {
      const on1 = runsOn(c, g, 'n1');
      if (on1 && runsOn(c, g, 'n2')) problems.push(`${g} active on n1 and n2 at once`);
      if (on1 && n1Forbidden) problems.push(`${g} active on n1 while n1 is in standby`);
    }
  }, 10);
  return {
    problems,
    samples: () => samples,
    forbidN1: (on: boolean) => {
      n1Forbidden = on;
    },
    stop: () => clearInterval(timer),
  };
}

test('halo node standby moves every group off the node, nothing returns while it is in standby, also across its restart; unstandby makes it a candidate again', async (t) => {
  const script = (g: string) => ({
    type: 'script',
    start: `touch "${g}.$HALO_NODE"`,
    stop: `rm -f "${g}.$HALO_NODE"`,
    check: `test -f "${g}.$HALO_NODE" || exit 7`,
  });
  const c = await groupsCluster(t, {
    nodes: ['n1', 'n2'],
    groups: Object.fromEntries(
      GROUPS.map((g) => [g, { nodes: ['n1', 'n2'], resources: { marker: script(g) } }]),
    ),
  });
  await twoAgents(c, () => GROUPS.every((g) => runsOn(c, g, 'n1')));
  const watch = sampler(c);
  t.after(() => watch.stop());

  const standby = await c.cli('n1', ['node', 'standby', 'n1']);
  assert.equal(standby.code, 0, standby.stderr);
  assert.equal(standby.stdout, 'node n1 in standby: moving app, db away, one at a time\n');
  await c.waitFor(
    'both groups running on n2 only',
    () => GROUPS.every((g) => runsOn(c, g, 'n2') && !runsOn(c, g, 'n1')),
    15_000,
  );
  watch.forbidN1(true);

  // One at a time, in reverse config order: app stops only after db's lease was handed over.
  const n1Events = c.events('n1');
  const seqOf = (message: string) => n1Events.find((e) => e.message.startsWith(message))?.seq ?? -1;
  assert.ok(
    n1Events.some((e) => e.type === 'intent' && e.message === 'standby of node n1 requested (by admin)'),
    'the request is an event',
  );
  const dbReleased = seqOf('lease of db released');
  const appStopping = seqOf('stopping app: node n1 is in standby');
  assert.ok(seqOf('stopping db: node n1 is in standby') >= 0, 'db left because of the standby');
  assert.ok(
    dbReleased >= 0 && appStopping > dbReleased,
    `db released (${dbReleased}) before app stopped (${appStopping})`,
  );

  // Every node shows the mode: status, halo status, metrics; n1 refuses to be a target.
  const { validate } = await openApiValidator(`http://127.0.0.1:${c.ports['n2']!.api}`);
  for (const node of ['n1', 'n2']) {
    const s = await c.status(node);
    validate('/v1/status', 'get', 200, s);
    assert.deepEqual(
      s.nodes.map((n: { name: string; standby: boolean }) => [n.name, n.standby]),
      [
        ['n1', true],
        ['n2', false],
      ],
      `as ${node} sees it`,
    );
  }
  const shown = await c.cli('n2', ['status']);
  assert.match(shown.stdout, /^n1\s+up\s+yes\s+standby$/m);
  const metrics = await c.api('n2', 'GET', '/metrics');
  assert.match(String(metrics.body), /^halo_node_standby\{node="n1"\} 1$/m);
  const refused = await c.cli('n2', ['move', 'app', 'n1']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /HALO_E_CONFLICT.*in standby/);
  const again = await c.api('n2', 'POST', '/v1/nodes/n1/standby', {});
  assert.equal(again.status, 202);
  validate('/v1/nodes/{node}/standby', 'post', 202, again.body);
  assert.equal(again.body.message, 'node n1 in standby: it holds no group');
  const missing = await c.api('n2', 'POST', '/v1/nodes/n9/unstandby', {});
  assert.equal(missing.status, 404);
  validate('/v1/nodes/{node}/unstandby', 'post', 404, missing.body);
  const unknown = await c.cli('n2', ['node', 'standby', 'n9']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /HALO_E_NOT_FOUND: no node n9; the nodes are n1, n2/);

  await sleep(1500); // three lease lengths of the fast profile: time for anything to come back

  // The standby is cluster state: n1 remembers it across a restart and takes nothing.
  await c.kill('n1', 'SIGTERM');
  await c.startAgent('n1');
  await c.waitFor('n1 out of quarantine', async () => !(await c.status('n1')).quarantined);
  await sleep(1500);
  const after = await c.status('n1');
  assert.equal(after.nodes.find((n: { name: string }) => n.name === 'n1').standby, true, 'still in standby');
  assert.ok(GROUPS.every((g) => runsOn(c, g, 'n2')));

  const unstandby = await c.cli('n2', ['node', 'unstandby', 'n1']);
  assert.equal(unstandby.code, 0, unstandby.stderr);
  assert.match(unstandby.stdout, /^node n1 out of standby/);
  watch.forbidN1(false);
  await c.waitFor('n1 active on n2', async () => {
    const s = await c.status('n2');
    return s.nodes.find((n: { name: string }) => n.name === 'n1').standby === false;
  });
  await sleep(500);
  assert.ok(
    GROUPS.every((g) => runsOn(c, g, 'n2') && !runsOn(c, g, 'n1')),
    'no failback without autoFailback',
  );
  // A candidate again: a move to n1 is accepted and carried out.
  const move = await c.cli('n2', ['move', 'app', 'n1']);
  assert.equal(move.code, 0, move.stderr);
  await c.waitFor('app back on n1', () => runsOn(c, 'app', 'n1') && !runsOn(c, 'app', 'n2'), 15_000);

  watch.stop();
  assert.ok(watch.samples() > 200, `sampled ${watch.samples()} times`);
  assert.deepEqual([...new Set(watch.problems)], []);
});
