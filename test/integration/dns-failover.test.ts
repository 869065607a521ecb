import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { type Bind, startBind } from '../support/bind.js';
import { type RunningCluster, startCluster } from '../support/cluster.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * Acceptance 3 of issue #7: two real agents and a witness on loopback, a real BIND as the
 * authoritative server. The group's `dns` resource points db.example.test at its owner
 * with TSIG-signed updates; a move and a kill -9 repoint it; a wrong key shows up in the
 * status as the server's answer.
 */

const LIMIT = { timeout: 120_000 };
const NAME = 'db.example.test';
const ADDRESS = { n1: '127.0.0.11', n2: '127.0.0.12' } as const;

function groups(bind: Bind, keyFile: string) {
  return {
    failover: {
      nodes: ['n1', 'n2'],
      resources: {
        dbname: {
          type: 'dns',
          name: NAME,
          server: bind.address,
          port: bind.port,
          keyFile,
          addresses: ADDRESS,
          ttl: 5,
          callTimeout: '1s',
        },
      },
      monitors: {
        dnsw: { type: 'resource', target: 'dbname', interval: '1s', timeout: '3s', retries: 0 },
      },
    },
  };
}

async function cluster(
  t: Parameters<typeof startCluster>[0],
  bind: Bind,
  keyFile: string,
): Promise<RunningCluster> {
  const c = await startCluster(t, { nodes: ['n1', 'n2'], groups: groups(bind, keyFile) });
  await c.startAgent('n1');
  await c.startAgent('n2');
  return c;
}

const pointsAt = (c: RunningCluster, bind: Bind, node: 'n1' | 'n2') =>
  c.waitFor(`${NAME} → ${node} (${ADDRESS[node]}) on BIND`, async () => {
    const seen = await bind.dig(NAME);
    return seen.length === 1 && seen[0] === ADDRESS[node];
  });

const dbname = async (c: RunningCluster, node: string) =>
  (await c.status(node)).groups[0].resources.find((r: { name: string }) => r.name === 'dbname');

test('the name follows the group: after a manual move and after kill -9 of the owner', LIMIT, async (t) => {
  const bind = await startBind(t);
  const c = await cluster(t, bind, bind.keyFile);
  await pointsAt(c, bind, 'n1');
  await c.waitFor(
    'dnsw passing on n1',
    async () => (await c.status('n1')).groups[0].monitors[0]?.state === 'passing',
  );
  assert.match((await dbname(c, 'n1')).lastCheck.reason, /db\.example\.test → 127\.0\.0\.11/);

  const moved = await c.api('n1', 'POST', '/v1/groups/failover/move', { to: 'n2' });
  assert.equal(moved.status, 202, JSON.stringify(moved.body));
  await pointsAt(c, bind, 'n2');
  await c.waitFor('group running on n2', async () => (await c.status('n2')).groups[0].phase === 'running');

  await c.kill('n2', 'SIGKILL');
  await pointsAt(c, bind, 'n1');
  assert.equal((await c.status('n1')).groups[0].owner, 'n1');
  for (const node of ['n1', 'n2'])
    assert.ok(!c.logs(node).includes(bind.secret), `the TSIG secret is not in ${node}'s log`);
});

test('a wrong TSIG key fails the start, and the status names the server’s answer', LIMIT, async (t) => {
  const bind = await startBind(t);
  const wrong = bind.writeKeyFile(join(tempDir(t), 'wrong.key'), Buffer.alloc(32, 9).toString('base64'));
  const c = await cluster(t, bind, wrong);
  const res = await c.waitFor('dbname lastError on n1', async () => {
    const r = await dbname(c, 'n1');
    return r?.lastError ? r : false;
  });
  assert.match(res.lastError, /refused the update of db\.example\.test → 127\.0\.0\.11: NOTAUTH\/BADSIG/);
  const group = await c.waitFor('group lastError', async () => {
    const g = (await c.status('n1')).groups[0];
    return g.lastError ? g : false;
  });
  assert.match(group.lastError, /BADSIG/);
  assert.deepEqual(await bind.dig(NAME), [], 'nothing was written');
  for (const node of ['n1', 'n2']) {
    assert.ok(!c.logs(node).includes(bind.secret));
    assert.ok(!c.logs(node).includes(Buffer.alloc(32, 9).toString('base64')));
  }
});
