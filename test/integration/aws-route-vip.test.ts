import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as ec2 from '@aws-sdk/client-ec2';
import { type RunningCluster, startCluster } from '../support/cluster.js';
import {
  ApiProxy,
  type AwsLab,
  createLab,
  MOTO_REGION,
  type Moto,
  routesOf,
  startMoto,
} from '../support/moto.js';

/**
 * A route-table VIP in front of a storage service, on loopback: two real agents and a
 * witness, moto_server as the EC2 API (behind a switchable proxy), and a group of an `aws-route-vip` over three route tables plus a
 * script resource standing in for MinIO. The VIP is never put on a host interface
 * (localAddress: false). moto is shared by the tests; each test gets its own VPC.
 */

const VIP = '172.16.0.1';
/** A hung probe must fail the test (its t.after hooks still clean up), never block the run. */
const LIMIT = { timeout: 180_000 };
const CIDR = `${VIP}/32`;
const hooks = { fns: [] as Array<() => unknown>, after: (fn: () => unknown) => hooks.fns.push(fn) };
let moto: Moto;
let proxy: ApiProxy;

before(async () => {
  moto = await startMoto(hooks);
  proxy = await ApiProxy.start(hooks, moto.endpoint);
});
after(async () => {
  for (const fn of hooks.fns.reverse()) await fn();
});

function group(lab: AwsLab) {
  return {
    failover: {
      nodes: ['n1', 'n2'],
      resources: {
        awsvip: {
          type: 'aws-route-vip',
          ip: VIP,
          routeTables: lab.routeTables,
          eni: { n1: lab.enis['n1'], n2: lab.enis['n2'] },
          endpoint: proxy.url,
          region: MOTO_REGION,
          localAddress: false,
          callTimeout: '1s',
          reconcile: '1s',
        },
        script_minio: {
          type: 'script',
          after: ['awsvip'],
          start: 'echo "$HALO_TERM" > "minio.$HALO_NODE"',
          stop: 'rm -f "minio.$HALO_NODE"',
          check: 'test -f "minio.$HALO_NODE" || exit 7',
        },
      },
      monitors: {
        awsvipw: { type: 'resource', target: 'awsvip', interval: '1s', timeout: '3s', retries: 0 },
      },
    },
  };
}

async function cluster(t: Parameters<typeof startCluster>[0], lab: AwsLab): Promise<RunningCluster> {
  const c = await startCluster(t, { nodes: ['n1', 'n2'], groups: group(lab) });
  await c.startAgent('n1');
  await c.startAgent('n2');
  return c;
}

async function waitRoutes(c: RunningCluster, lab: AwsLab, node: string, timeoutMs = 20_000): Promise<void> {
  const eni = lab.enis[node]!;
  await c.waitFor(
    `all routes → ${node} (${eni})`,
    async () => Object.values(await routesOf(moto, lab.routeTables, CIDR)).every((v) => v === eni),
    timeoutMs,
  );
}

const vipStatus = async (c: RunningCluster, node: string) =>
  (await c.status(node)).groups[0].resources.find((r: { name: string }) => r.name === 'awsvip');

test(
  'after a manual move and after kill -9 of the owner, all three routes point at the new owner',
  LIMIT,
  async (t) => {
    proxy.setMode('pass');
    const lab = await createLab(moto, ['n1', 'n2']);
    const c = await cluster(t, lab);
    await waitRoutes(c, lab, 'n1');
    await c.waitFor('minio on n1', () => existsSync(join(c.dir, 'minio.n1')));

    const moved = await c.api('n1', 'POST', '/v1/groups/failover/move', { to: 'n2' });
    assert.equal(moved.status, 202, JSON.stringify(moved.body));
    await waitRoutes(c, lab, 'n2');
    await c.waitFor('minio on n2', () => existsSync(join(c.dir, 'minio.n2')));
    assert.ok(!existsSync(join(c.dir, 'minio.n1')));
    const tables = await moto.client.send(
      new ec2.DescribeRouteTablesCommand({ RouteTableIds: lab.routeTables }),
    );
    const term = (await c.status('n2')).groups[0].term;
    for (const table of tables.RouteTables ?? []) {
      const tags = Object.fromEntries((table.Tags ?? []).map((x) => [x.Key, x.Value]));
      assert.equal(tags[`halo:${VIP}:owner`], 'n2');
      assert.equal(tags[`halo:${VIP}:term`], term);
    }

    await c.kill('n2', 'SIGKILL');
    await waitRoutes(c, lab, 'n1');
    await c.waitFor('minio on n1 again', () => existsSync(join(c.dir, 'minio.n1')));
    assert.equal((await c.status('n1')).groups[0].owner, 'n1');
  },
);

test(
  'a route changed behind Halo’s back is put back within one reconcile interval, without a failover',
  LIMIT,
  async (t) => {
    proxy.setMode('pass');
    const lab = await createLab(moto, ['n1', 'n2', 'intruder']);
    const c = await cluster(t, lab);
    await waitRoutes(c, lab, 'n1');
    await c.waitFor('group running on n1', async () => (await c.status('n1')).groups[0].phase === 'running');
    const before = (await c.status('n1')).groups[0].term;
    await moto.client.send(
      new ec2.ReplaceRouteCommand({
        RouteTableId: lab.routeTables[1]!,
        DestinationCidrBlock: CIDR,
        NetworkInterfaceId: lab.enis['intruder']!,
      }),
    );
    // reconcile 1s + callTimeout 1s per call; the bound is generous for a loaded machine.
    await waitRoutes(c, lab, 'n1', 8000);
    const g = (await c.status('n1')).groups[0];
    assert.equal(g.owner, 'n1');
    assert.equal(g.term, before, 'same lease term: the group did not move');
  },
);

test(
  'EC2 API black-holed or down: checks give up within their budget, the group stays, the status says why',
  LIMIT,
  async (t) => {
    proxy.setMode('pass');
    t.after(() => proxy.setMode('pass'));
    const lab = await createLab(moto, ['n1', 'n2']);
    const c = await cluster(t, lab);
    await waitRoutes(c, lab, 'n1');
    await c.waitFor(
      'awsvipw passing',
      async () => (await c.status('n1')).groups[0].monitors[0]?.state === 'passing',
    );
    const before = (await c.status('n1')).groups[0];

    proxy.setMode('blackhole');
    const blackholed = await c.waitFor('check reason names the silent API', async () => {
      const r = await vipStatus(c, 'n1');
      return /^warning: could not verify .*did not answer within 1s/.test(r?.lastCheck?.reason ?? '')
        ? r
        : false;
    });
    assert.equal(blackholed.lastCheck.state, 'running');
    const monitor = (await c.status('n1')).groups[0].monitors[0];
    assert.ok(monitor.lastResult.durationMs < 3000, `check took ${monitor.lastResult.durationMs}ms`);

    proxy.setMode('down');
    await c.waitFor('check reason names the unreachable API', async () =>
      /could not verify .*(cannot be reached|did not answer)/.test(
        (await vipStatus(c, 'n1'))?.lastCheck?.reason ?? '',
      ),
    );
    await sleep(3000); // several monitor intervals and lease lengths of the fast profile
    const during = (await c.status('n1')).groups[0];
    assert.equal(during.owner, 'n1');
    assert.equal(during.term, before.term, 'no failover while the API is merely unavailable');
    assert.equal(during.phase, 'running');

    proxy.setMode('pass');
    await c.waitFor('check passes again', async () =>
      /point at eni-/.test((await vipStatus(c, 'n1'))?.lastCheck?.reason ?? ''),
    );
  },
);

test(
  'a start while the EC2 API does not answer fails within the budget and says why; it starts once the API is back',
  LIMIT,
  async (t) => {
    const lab = await createLab(moto, ['n1', 'n2']);
    proxy.setMode('blackhole');
    t.after(() => proxy.setMode('pass'));
    const c = await cluster(t, lab);
    const failed = await c.waitFor(
      'a failed start of awsvip',
      () =>
        c
          .events('n1')
          .find(
            (e) =>
              e.type === 'resource' && e.resource === 'awsvip' && /^start of awsvip failed/.test(e.message),
          ),
      30_000,
    );
    assert.match(failed.message, /DescribeRouteTables did not answer within 1s/);
    assert.ok(failed.details.durationMs < 8000, `start took ${failed.details.durationMs}ms`);
    assert.match((await vipStatus(c, 'n1')).lastError, /did not answer within 1s/);

    proxy.setMode('pass');
    const started = await c.api('n1', 'POST', '/v1/groups/failover/start', {});
    assert.equal(started.status, 202, JSON.stringify(started.body));
    await c.waitFor(
      'routes point at one of the nodes',
      async () => {
        const routes = Object.values(await routesOf(moto, lab.routeTables, CIDR));
        return routes.every((v) => v === lab.enis['n1']) || routes.every((v) => v === lab.enis['n2']);
      },
      20_000,
    );
  },
);
