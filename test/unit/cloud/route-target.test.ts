import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ec2Error } from '../../../src/cloud/aws/ec2-error.js';
import { driftOf, routeTarget } from '../../../src/engine/resources/aws-route-vip/route-target.js';
import { FakeEc2 } from './fake-ec2.js';

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

describe('routeTarget.repair', () => {
  it('creates missing routes and replaces routes that point elsewhere', async () => {
    const ec2 = new FakeEc2(['rtb-a', 'rtb-b']);
    ec2.tables.get('rtb-b')!.set(CIDR, 'eni-other');
    const target = routeTarget('172.16.0.1', ['rtb-a', 'rtb-b']);
    const drifts = await target.inspect(ec2, 'eni-me', 'n1', signal);
    await target.repair(ec2, 'eni-me', 'n1', drifts, signal);
    assert.deepEqual(ec2.calls.slice(1).sort(), ['CreateRoute', 'ReplaceRoute']);
    assert.equal(ec2.tables.get('rtb-a')!.get(CIDR), 'eni-me');
    assert.equal(ec2.tables.get('rtb-b')!.get(CIDR), 'eni-me');
    assert.deepEqual(await target.inspect(ec2, 'eni-me', 'n1', signal), []);
  });

  it('falls back to ReplaceRoute on RouteAlreadyExists and to CreateRoute when the route vanished', async () => {
    const ec2 = new FakeEc2(['rtb-a', 'rtb-b']);
    const create = ec2.createRoute.bind(ec2);
    const replace = ec2.replaceRoute.bind(ec2);
    let existsOnce = true;
    let vanishedOnce = true;
    ec2.createRoute = async (t, c, e) => {
      if (t === 'rtb-a' && existsOnce) {
        existsOnce = false;
        throw new Ec2Error('CreateRoute', 'rejected', 'exists', 'RouteAlreadyExists');
      }
      return create(t, c, e);
    };
    ec2.replaceRoute = async (t, c, e) => {
      if (t === 'rtb-b' && vanishedOnce) {
        vanishedOnce = false;
        throw new Ec2Error(
          'ReplaceRoute',
          'rejected',
          'no route defined; Use CreateRoute instead',
          'InvalidParameterValue',
        );
      }
      return replace(t, c, e);
    };
    const target = routeTarget('172.16.0.1', ['rtb-a', 'rtb-b']);
    await target.repair(
      ec2,
      'eni-me',
      'n1',
      [
        { id: 'rtb-a', found: 'no route' },
        { id: 'rtb-b', found: 'eni-other' },
      ],
      signal,
    );
    assert.equal(ec2.tables.get('rtb-a')!.get(CIDR), 'eni-me');
    assert.equal(ec2.tables.get('rtb-b')!.get(CIDR), 'eni-me');
  });

  it('stamps every table with this VIP’s owner and term tags', async () => {
    const ec2 = new FakeEc2(['rtb-a']);
    await routeTarget('172.16.0.1', ['rtb-a']).stamp!(
      ec2,
      { cluster: 'c', group: 'g', node: 'n2', term: '99' },
      signal,
    );
    assert.deepEqual(ec2.tags.get('rtb-a'), { 'halo:172.16.0.1:owner': 'n2', 'halo:172.16.0.1:term': '99' });
  });
});
