import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DescribeTagsCommand } from '@aws-sdk/client-ec2';
import { driftOf, routeTarget } from '../../../src/engine/resources/aws-route-vip/route-target.js';
import { routesOf } from '../../support/moto.js';
import { needPeer } from '../../support/requirements.js';
import { FakeEc2 } from './fake-ec2.js';
import { MOTO_MISSING, motoAvailable, motoEc2 } from './moto-api.js';

const CIDR = '172.16.0.1/32';
const signal = new AbortController().signal;

describe('driftOf', () => {
  it('reports a missing route, a route elsewhere, and nothing for a route here', () => {
    const tables = [
      { RouteTableId: 'rtb-a', Routes: [] },
      { RouteTableId: 'rtb-b', Routes: [{ DestinationCidrBlock: CIDR, NetworkInterfaceId: 'eni-other' }] },
      {
        RouteTableId: 'rtb-c',
        Routes: [{ DestinationCidrBlock: CIDR, NetworkInterfaceId: 'eni-me', State: 'active' as const }],
      },
    ];
    assert.deepEqual(driftOf(tables, 'rtb-a', CIDR, 'eni-me'), [{ id: 'rtb-a', found: 'no route' }]);
    assert.deepEqual(driftOf(tables, 'rtb-b', CIDR, 'eni-me'), [{ id: 'rtb-b', found: 'eni-other' }]);
    assert.deepEqual(driftOf(tables, 'rtb-c', CIDR, 'eni-me'), []);
  });

  it('fails on a blackhole route to this ENI and on a table the API did not return', () => {
    const tables = [
      {
        RouteTableId: 'rtb-a',
        Routes: [{ DestinationCidrBlock: CIDR, NetworkInterfaceId: 'eni-me', State: 'blackhole' as const }],
      },
    ];
    assert.throws(() => driftOf(tables, 'rtb-a', CIDR, 'eni-me'), /blackhole/);
    assert.throws(() => driftOf(tables, 'rtb-x', CIDR, 'eni-me'), /rtb-x was not returned/);
  });
});

describe('routeTarget.repair against moto', () => {
  it('creates missing routes and replaces routes that point elsewhere', async (t) => {
    if (!needPeer(t, MOTO_MISSING, motoAvailable())) return;
    const { moto, api, lab } = await motoEc2();
    const aws = await lab();
    const [a, b] = aws.routeTables as [string, string];
    const [me, other] = [aws.enis['n1'] as string, aws.enis['other'] as string];
    await api.createRoute(b, CIDR, other, signal);
    const target = routeTarget('172.16.0.1', [a, b]);
    const drifts = await target.inspect(api, me, 'n1', signal);
    assert.deepEqual(drifts, [
      { id: a, found: 'no route' },
      { id: b, found: other },
    ]);
    await target.repair(api, me, 'n1', drifts, signal);
    assert.deepEqual(await routesOf(moto, [a, b], CIDR), { [a]: me, [b]: me });
    assert.deepEqual(await target.inspect(api, me, 'n1', signal), []);
  });

  it('falls back to CreateRoute when a route it meant to replace has vanished', async (t) => {
    if (!needPeer(t, MOTO_MISSING, motoAvailable())) return;
    const { moto, api, lab } = await motoEc2();
    const aws = await lab();
    const [a] = aws.routeTables as [string];
    const me = aws.enis['n1'] as string;
    // Read when the route pointed elsewhere; deleted since: ReplaceRoute is refused.
    await routeTarget('172.16.0.1', [a]).repair(api, me, 'n1', [{ id: a, found: 'eni-gone' }], signal);
    assert.deepEqual(await routesOf(moto, [a], CIDR), { [a]: me });
  });

  it('stamps every table with this VIP’s owner and term tags', async (t) => {
    if (!needPeer(t, MOTO_MISSING, motoAvailable())) return;
    const { moto, api, lab } = await motoEc2();
    const aws = await lab();
    const [a, b] = aws.routeTables as [string, string];
    await routeTarget('172.16.0.1', [a, b]).stamp!(
      api,
      { cluster: 'c', group: 'g', node: 'n2', term: '99' },
      signal,
    );
    const out = await moto.client.send(
      new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [a, b] }] }),
    );
    const tags = (out.Tags ?? []).map((x) => `${x.ResourceId} ${x.Key}=${x.Value}`).sort();
    assert.deepEqual(
      tags,
      [
        `${a} halo:172.16.0.1:owner=n2`,
        `${a} halo:172.16.0.1:term=99`,
        `${b} halo:172.16.0.1:owner=n2`,
        `${b} halo:172.16.0.1:term=99`,
      ].sort(),
    );
  });
});

describe('routeTarget.repair where moto differs from EC2', () => {
  it('falls back to ReplaceRoute when a route it meant to create already exists', async () => {
    // EC2 answers RouteAlreadyExists here, moto does not (fake-ec2-parity.test.ts): the fake.
    const ec2 = new FakeEc2(['rtb-a']);
    ec2.tables.get('rtb-a')?.set(CIDR, 'eni-other'); // created by someone since we read
    await routeTarget('172.16.0.1', ['rtb-a']).repair(
      ec2,
      'eni-me',
      'n1',
      [{ id: 'rtb-a', found: 'no route' }],
      signal,
    );
    assert.deepEqual(ec2.calls, ['CreateRoute', 'ReplaceRoute']);
    assert.equal(ec2.tables.get('rtb-a')?.get(CIDR), 'eni-me');
  });
});
