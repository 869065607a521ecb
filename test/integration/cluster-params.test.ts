import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { HALO_CLI } from '../support/cluster.js';
import { ETCD_BIN, etcdAvailable, startEtcdAgents, startEtcdCluster } from '../support/etcd-cluster.js';
import { needPeer } from '../support/requirements.js';
import { groupsCluster } from './groups-support.js';

/**
 * Issue #16 acceptance 1: a parameter change is cluster state. Set on the owner, then on the
 * standby; move the group; kill the owner's agent; restart every agent — the resource always
 * starts with the latest accepted value, and `GET …/params` answers the same on every node.
 * Run on both coordination backends (embedded majority with a witness, and etcd).
 */

const groups = {
  app: {
    nodes: ['n1', 'n2'],
    resources: {
      r: {
        type: 'script',
        env: { PORT: '59999' },
        start: 'echo "$PORT" > "r.$HALO_NODE"',
        stop: 'rm -f "r.$HALO_NODE"',
        check: 'test -f "r.$HALO_NODE" || exit 7',
        timeout: { stop: '2s' },
      },
    },
  },
};

interface ParamsCluster {
  dir: string;
  start(node: string): Promise<void>;
  kill(node: string, signal?: NodeJS.Signals): Promise<void>;
  api(node: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Stops every agent (and the witness, if any), then starts them again. */
  restartAll(): Promise<void>;
}

const PATH = '/v1/groups/app/resources/r/params';
const NODES = ['n1', 'n2'];

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The PORT the resource was started with on each node where it runs now. */
function runningWith(c: ParamsCluster): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of NODES) {
    const f = join(c.dir, `r.${n}`);
    if (existsSync(f)) out[n] = readFileSync(f, 'utf8').trim();
  }
  return out;
}

/** Every node gives the same answer to GET …/params; returns it. */
async function agreedParams(c: ParamsCluster, expect: { port: string; pending: string | null }) {
  return waitFor(`every node showing PORT ${expect.port}, pending ${expect.pending}`, async () => {
    const views = [];
    for (const n of NODES) {
      const res = await c.api(n, 'GET', PATH);
      if (res.status !== 200) return false;
      views.push(res.body);
    }
    const ok = views.every(
      (v) =>
        v.params.env?.PORT === expect.port &&
        (expect.pending === null
          ? Object.keys(v.pending).length === 0
          : v.pending.env?.PORT === expect.pending),
    );
    if (!ok) return false;
    assert.deepEqual(views[1], views[0], 'n1 and n2 show the same parameters');
    return views[0];
  });
}

async function ownerOf(c: ParamsCluster): Promise<string> {
  return waitFor('one node running the group', async () => {
    const running = Object.keys(runningWith(c));
    if (running.length > 1) throw new Error(`two nodes run the group: ${running.join(', ')}`);
    const s = await c.api(running[0] ?? 'n1', 'GET', '/v1/status').catch(() => undefined);
    const g = s?.body?.groups?.find((x: { name: string }) => x.name === 'app');
    return running.length === 1 && g?.owner === running[0] && g.state === 'running' ? running[0] : false;
  });
}

async function scenario(c: ParamsCluster): Promise<void> {
  await c.start('n1');
  await waitFor('app running on n1', async () => runningWith(c)['n1'] === '59999');
  await c.start('n2');
  await waitFor('n2 answers', async () => (await c.api('n2', 'GET', '/v1/status')).status === 200);

  // On the owner: a restart parameter waits for the next start, and every node says so.
  const onOwner = await c.api('n1', 'PATCH', PATH, { env: { PORT: '59998' } });
  assert.equal(onOwner.status, 200, JSON.stringify(onOwner.body));
  assert.deepEqual(onOwner.body, { live: [], pending: ['env'] });
  await agreedParams(c, { port: '59999', pending: '59998' });

  // On the standby: accepted for the cluster (before: only n2's own copy changed).
  const onStandby = await c.api('n2', 'PATCH', PATH, { env: { PORT: '59997' } });
  assert.equal(onStandby.status, 200, JSON.stringify(onStandby.body));
  assert.deepEqual(onStandby.body, { live: [], pending: ['env'] });
  await agreedParams(c, { port: '59999', pending: '59997' });
  assert.deepEqual(runningWith(c), { n1: '59999' }, 'nothing restarted');

  // A bad value is refused when it is set, on any node, and nothing is stored.
  const bad = await c.api('n2', 'PATCH', PATH, { user: 'no-such-user-halo' });
  assert.equal(bad.status, 400, JSON.stringify(bad.body));
  assert.match(JSON.stringify(bad.body), /no-such-user-halo/);

  // The move starts the resource on n2 with the latest accepted value.
  const moved = await c.api('n1', 'POST', '/v1/groups/app/move', { to: 'n2' });
  assert.equal(moved.status, 202, JSON.stringify(moved.body));
  await waitFor(
    'app running on n2',
    async () => JSON.stringify(runningWith(c)) === JSON.stringify({ n2: '59997' }),
  );
  await agreedParams(c, { port: '59997', pending: null });

  // The owner's agent dies: the other node starts it with the same value.
  await c.kill('n2', 'SIGKILL');
  await waitFor('app running on n1 after the kill', async () => runningWith(c)['n1'] === '59997');
  assert.deepEqual(runningWith(c), { n1: '59997' });
  await c.start('n2');
  await agreedParams(c, { port: '59997', pending: null });

  // The whole cluster restarts: still the accepted value.
  await c.restartAll();
  const owner = await ownerOf(c);
  assert.deepEqual(runningWith(c), { [owner]: '59997' });
  await agreedParams(c, { port: '59997', pending: null });
}

test('a parameter set on either node is cluster state (embedded coordination with a witness)', async (t: TestContext) => {
  const c = await groupsCluster(t, { nodes: NODES, groups, timing: 'fast' });
  await scenario({
    dir: c.dir,
    start: (n) => c.startAgent(n),
    kill: (n, s) => c.kill(n, s),
    api: (n, m, p, b) => c.api(n, m, p, b),
    async restartAll() {
      for (const n of NODES) await c.kill(n, 'SIGTERM');
      await c.kill('witness', 'SIGKILL');
      await c.startWitness();
      for (const n of NODES) await c.startAgent(n);
    },
  });
});

test('a parameter set on either node is cluster state (etcd coordination)', async (t: TestContext) => {
  if (!needPeer(t, `etcd (${ETCD_BIN}; Debian package etcd-server)`, etcdAvailable())) return;
  const etcd = await startEtcdCluster(t);
  const agents = await startEtcdAgents(t, { endpoints: etcd.endpoints, nodes: NODES, groups, cli: HALO_CLI });
  await scenario({
    dir: agents.dir,
    start: (n) => agents.start(n),
    kill: (n, s) => agents.kill(n, s),
    api: (n, m, p, b) => agents.api(n, m, p, b),
    async restartAll() {
      for (const n of NODES) await agents.kill(n, 'SIGTERM');
      for (const n of NODES) await agents.start(n);
    },
  });
});
