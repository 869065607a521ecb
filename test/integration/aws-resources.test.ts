import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as ec2 from '@aws-sdk/client-ec2';
import { closeEc2Clients } from '../../src/cloud/aws/ec2-api.js';
import { awsEipResource } from '../../src/engine/resources/aws-eip/index.js';
import { awsRouteVipResource } from '../../src/engine/resources/aws-route-vip/index.js';
import { awsSecondaryIpResource } from '../../src/engine/resources/aws-secondary-ip/index.js';
import type { ResourceContext } from '../../src/engine/resources/types.js';
import { silentLogger } from '../../src/log.js';
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
 * The AWS resource types against moto_server on loopback, one instance at a time (no
 * agents): what they write, how they read it back, and how they behave when the API is
 * black-holed or down. Local addresses are off: these tests must not touch the host.
 */

const hooks = { fns: [] as Array<() => unknown>, after: (fn: () => unknown) => hooks.fns.push(fn) };
let moto: Moto;
let proxy: ApiProxy;
let lab: AwsLab;

before(async () => {
  moto = await startMoto(hooks);
  proxy = await ApiProxy.start(hooks, moto.endpoint);
  lab = await createLab(moto, ['n1', 'n2']);
});
after(async () => {
  closeEc2Clients();
  for (const fn of hooks.fns.reverse()) await fn();
});

function ctx(node: string, signal = new AbortController().signal): ResourceContext {
  return {
    cluster: 'it',
    node,
    group: 'failover',
    resource: 'awsvip',
    term: '7',
    signal,
    log: silentLogger,
    stateDir: '/nonexistent',
  };
}

const VIP = '172.16.0.1';

function routeVip(extra: Record<string, unknown> = {}) {
  const params = awsRouteVipResource.params.parse({
    ip: VIP,
    routeTables: lab.routeTables,
    eni: lab.enis,
    endpoint: proxy.url,
    region: MOTO_REGION,
    localAddress: false,
    callTimeout: '1s',
    reconcile: '0s',
    ...extra,
  });
  return awsRouteVipResource.create('awsvip', params);
}

describe('aws-route-vip against moto', () => {
  it('start points VIP/32 in every route table at this node and tags the tables with owner and term', async () => {
    const r = routeVip();
    await r.start(ctx('n1'));
    assert.deepEqual(
      await routesOf(moto, lab.routeTables, `${VIP}/32`),
      Object.fromEntries(lab.routeTables.map((id) => [id, lab.enis['n1']])),
    );
    const tables = await moto.client.send(
      new ec2.DescribeRouteTablesCommand({ RouteTableIds: lab.routeTables }),
    );
    for (const t of tables.RouteTables ?? []) {
      const tags = Object.fromEntries((t.Tags ?? []).map((x) => [x.Key, x.Value]));
      assert.equal(tags[`halo:${VIP}:owner`], 'n1');
      assert.equal(tags[`halo:${VIP}:term`], '7');
    }
    assert.equal((await r.check(ctx('n1'))).state, 'running');
    await r.stop(ctx('n1'));
    assert.equal((await r.check(ctx('n1'))).state, 'stopped');
  });

  it('start on the other node replaces the existing routes', async () => {
    const r1 = routeVip();
    const r2 = routeVip();
    await r1.start(ctx('n1'));
    await r1.stop(ctx('n1'));
    await r2.start(ctx('n2'));
    const routes = await routesOf(moto, lab.routeTables, `${VIP}/32`);
    for (const id of lab.routeTables) assert.equal(routes[id], lab.enis['n2']);
    await r2.stop(ctx('n2'));
  });

  it('check puts back a route changed behind its back and says so', async () => {
    const r = routeVip();
    await r.start(ctx('n1'));
    await moto.client.send(
      new ec2.ReplaceRouteCommand({
        RouteTableId: lab.routeTables[1]!,
        DestinationCidrBlock: `${VIP}/32`,
        NetworkInterfaceId: lab.enis['n2']!,
      }),
    );
    const result = await r.check(ctx('n1'));
    assert.equal(result.state, 'running');
    assert.match(
      result.reason ?? '',
      new RegExp(`put back ${lab.routeTables[1]} \\(was ${lab.enis['n2']}\\)`),
    );
    assert.equal((await routesOf(moto, lab.routeTables, `${VIP}/32`))[lab.routeTables[1]!], lab.enis['n1']);
    await r.stop(ctx('n1'));
  });

  it('the reconcile loop puts a drifted route back without any check, and stop ends the loop', async () => {
    const r = routeVip({ reconcile: '200ms' });
    await r.start(ctx('n1'));
    await moto.client.send(
      new ec2.ReplaceRouteCommand({
        RouteTableId: lab.routeTables[2]!,
        DestinationCidrBlock: `${VIP}/32`,
        NetworkInterfaceId: lab.enis['n2']!,
      }),
    );
    const deadline = Date.now() + 10_000;
    while ((await routesOf(moto, lab.routeTables, `${VIP}/32`))[lab.routeTables[2]!] !== lab.enis['n1']) {
      assert.ok(Date.now() < deadline, 'route not put back by the loop');
      await new Promise((res) => setTimeout(res, 100));
    }
    await r.stop(ctx('n1'));
    await moto.client.send(
      new ec2.ReplaceRouteCommand({
        RouteTableId: lab.routeTables[2]!,
        DestinationCidrBlock: `${VIP}/32`,
        NetworkInterfaceId: lab.enis['n2']!,
      }),
    );
    await new Promise((res) => setTimeout(res, 800));
    assert.equal(
      (await routesOf(moto, lab.routeTables, `${VIP}/32`))[lab.routeTables[2]!],
      lab.enis['n2'],
      'a stopped resource writes nothing',
    );
  });

  it('a black-holed API: check gives up within its budget and warns instead of failing', async (t) => {
    const r = routeVip();
    await r.start(ctx('n1'));
    t.after(async () => {
      proxy.setMode('pass');
      await r.stop(ctx('n1'));
    });
    proxy.setMode('blackhole');
    const t0 = Date.now();
    const result = await r.check(ctx('n1'));
    const took = Date.now() - t0;
    assert.equal(result.state, 'running');
    assert.match(result.reason ?? '', /^warning: could not verify .*did not answer within 1s/);
    assert.ok(took < 4000, `check took ${took}ms with callTimeout 1s`);
  });

  it('an unreachable API with onApiError: fail reports failed with the reason', async (t) => {
    const r = routeVip({ onApiError: 'fail' });
    await r.start(ctx('n1'));
    t.after(async () => {
      proxy.setMode('pass');
      await r.stop(ctx('n1'));
    });
    proxy.setMode('down');
    const result = await r.check(ctx('n1'));
    assert.equal(result.state, 'failed');
    assert.match(result.reason ?? '', /could not verify .*DescribeRouteTables/);
  });

  it('start against a black-holed API fails within its budget with a reason', async (t) => {
    t.after(() => proxy.setMode('pass'));
    proxy.setMode('blackhole');
    const r = routeVip();
    const t0 = Date.now();
    await assert.rejects(r.start(ctx('n1')), /DescribeRouteTables did not answer within 1s/);
    assert.ok(Date.now() - t0 < 4000);
  });

  it('a route table that does not exist fails start with the AWS error', async () => {
    const r = routeVip({ routeTables: ['rtb-0000dead'] });
    await assert.rejects(r.start(ctx('n1')), /InvalidRouteTableID\.NotFound/);
  });
});

describe('aws-eip and aws-secondary-ip against moto', () => {
  it('aws-eip moves the Elastic IP to the active node and check verifies the association', async () => {
    const alloc = await moto.client.send(new ec2.AllocateAddressCommand({ Domain: 'vpc' }));
    const params = awsEipResource.params.parse({
      allocationId: alloc.AllocationId,
      eni: lab.enis,
      endpoint: proxy.url,
      region: MOTO_REGION,
      reconcile: '0s',
    });
    const r1 = awsEipResource.create('eip', params);
    const r2 = awsEipResource.create('eip', params);
    await r1.start(ctx('n1'));
    assert.equal((await r1.check(ctx('n1'))).state, 'running');
    await r1.stop(ctx('n1'));
    await r2.start(ctx('n2'));
    const addr = await moto.client.send(
      new ec2.DescribeAddressesCommand({ AllocationIds: [alloc.AllocationId!] }),
    );
    assert.equal(addr.Addresses?.[0]?.NetworkInterfaceId, lab.enis['n2']);
    assert.equal((await r2.check(ctx('n2'))).state, 'running');
    assert.deepEqual(r2.fenceActions(), []);
    await r2.stop(ctx('n2'));
  });

  it('aws-secondary-ip assigns the address to the active node’s ENI', async () => {
    const params = awsSecondaryIpResource.params.parse({
      ip: '10.0.10.200',
      eni: lab.enis,
      endpoint: proxy.url,
      region: MOTO_REGION,
      reconcile: '0s',
      localAddress: false,
    });
    const r = awsSecondaryIpResource.create('sip', params);
    await r.start(ctx('n1'));
    const ni = await moto.client.send(
      new ec2.DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [lab.enis['n1']!] }),
    );
    assert.ok(
      ni.NetworkInterfaces?.[0]?.PrivateIpAddresses?.some((p) => p.PrivateIpAddress === '10.0.10.200'),
    );
    assert.equal((await r.check(ctx('n1'))).state, 'running');
    await r.stop(ctx('n1'));
  });
});
