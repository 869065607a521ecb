import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openApiValidator } from './api-helpers.js';
import { groupsCluster, twoAgents } from './groups-support.js';

/**
 * Failure history on real agents over loopback (issue #16): a start that fails on n1 marks n1
 * failed for both groups and n2 runs them. `app` has a 3 s failureTimeout: its mark expires on
 * every node and n1 may run it again. `db` has none: its mark stays until `halo cleanup`.
 */

const start = (group: string) =>
  `[ -e "fail.$HALO_NODE" ] && { echo disk not mounted; exit 1; }; touch "${group}.$HALO_NODE"`;
const resource = (group: string) => ({
  r: {
    type: 'script',
    start: start(group),
    stop: `rm -f "${group}.$HALO_NODE"`,
    check: `test -e "${group}.$HALO_NODE"`,
  },
});

test('a failure mark expires after failureTimeout on every node; halo cleanup clears a lasting one at once', async (t) => {
  const c = await groupsCluster(t, {
    nodes: ['n1', 'n2'],
    groups: {
      app: { nodes: ['n1', 'n2'], failureTimeout: '3s', resources: resource('app') },
      db: { nodes: ['n1', 'n2'], resources: resource('db') },
    },
  });
  writeFileSync(join(c.dir, 'fail.n1'), '');
  const has = (file: string) => existsSync(join(c.dir, file));
  const group = async (node: string, name: string) =>
    (await c.status(node)).groups.find((g: any) => g.name === name);

  await twoAgents(c, async () => (await group('n1', 'app')).intent.failedNodes.includes('n1'));
  await c.waitFor('both groups run on n2', () => has('app.n2') && has('db.n2'));
  const marked = await group('n2', 'app');
  assert.deepEqual(marked.intent.failedNodes, ['n1']);
  const mark = marked.intent.failures.n1;
  assert.match(mark.reason, /disk not mounted/);
  assert.equal(Date.parse(mark.expiresAt) - Date.parse(mark.since), 3000, 'expires 3 s after the mark');
  assert.equal((await group('n2', 'db')).intent.failures.n1.expiresAt, null, 'db: no failureTimeout');

  // The mark expires on both nodes; it is still shown, as expired.
  for (const node of ['n1', 'n2']) {
    const g = await c.waitFor(
      `${node} sees the mark of n1 for app expired`,
      async () => {
        const s = await group(node, 'app');
        return s.intent.failedNodes.length === 0 ? s : false;
      },
      10_000,
    );
    assert.deepEqual(g.intent.expiredNodes, ['n1']);
    assert.equal(g.intent.failures.n1.expired, true);
    assert.ok(Date.now() >= Date.parse(mark.expiresAt) - 500, `${node}: not before its time (±clock)`);
  }
  assert.ok(
    c.events('n1').some((e) => /failure mark of n1 for app expired \(failureTimeout 3s\)/.test(e.message)),
  );
  assert.deepEqual((await group('n1', 'db')).intent.failedNodes, ['n1'], 'db keeps its mark');
  assert.equal((await group('n1', 'app')).owner, 'n2', 'an expiry moves nothing by itself');

  // The disk is back; halo cleanup (the real CLI, against n2) clears db's mark at once.
  rmSync(join(c.dir, 'fail.n1'));
  const cleanup = await c.cli('n2', ['cleanup', 'db']);
  assert.equal(cleanup.code, 0, cleanup.stderr);
  assert.match(cleanup.stdout, /cleaning up db: failure marks of n1 cleared; probing again/);
  for (const node of ['n1', 'n2']) {
    const g = await c.waitFor(`${node} sees db without marks`, async () => {
      const s = await group(node, 'db');
      return s.intent.failedNodes.length === 0 ? s : false;
    });
    assert.deepEqual(g.intent.failures, {}, `${node}: cleared, not expired`);
  }
  await c.waitFor('n1 re-probed db', () =>
    c.events('n1').some((e) => /cleanup of db on n1: failure counters reset, probing again/.test(e.message)),
  );

  // Through the API: one node's mark only, and the answer matches the OpenAPI document.
  const { validate } = await openApiValidator(`http://127.0.0.1:${c.ports.n1!.api}`);
  const r = await c.api('n1', 'POST', '/v1/groups/app/cleanup', { resource: 'r', node: 'n1' });
  assert.equal(r.status, 202);
  validate('/v1/groups/{group}/cleanup', 'post', 202, r.body);
  assert.deepEqual(r.body.cleared, ['n1'], 'the expired mark is cleared too');
  const bad = await c.api('n1', 'POST', '/v1/groups/app/cleanup', { node: 'n9' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'HALO_E_BAD_REQUEST');
  const status = await c.api('n1', 'GET', '/v1/status');
  validate('/v1/status', 'get', 200, status.body);
});
