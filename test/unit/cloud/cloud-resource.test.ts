import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ec2Error } from '../../../src/cloud/aws/ec2-error.js';
import { CloudResource } from '../../../src/engine/resources/aws/cloud-resource.js';
import { routeTarget } from '../../../src/engine/resources/aws-route-vip/route-target.js';
import { makeContext } from '../resources/context.js';
import { FakeEc2 } from './fake-ec2.js';

const CIDR = '172.16.0.1/32';

function resource(ec2: FakeEc2, over: Partial<ConstructorParameters<typeof CloudResource>[0]> = {}) {
  return new CloudResource({
    name: 'awsvip',
    target: routeTarget('172.16.0.1', ['rtb-a', 'rtb-b']),
    settings: {
      eni: { n1: 'eni-1', n2: 'eni-2' },
      callTimeout: 1000,
      reconcile: 0,
      onApiError: 'warn',
    },
    api: () => ec2,
    ...over,
  });
}

describe('CloudResource (aws-route-vip logic, fake EC2)', () => {
  it('check reports stopped without calling the API when not started here', async () => {
    const ec2 = new FakeEc2(['rtb-a', 'rtb-b']);
    const r = resource(ec2);
    assert.deepEqual(await r.check(makeContext()), { state: 'stopped', reason: 'not active on this node' });
    assert.deepEqual(ec2.calls, []);
  });

  it('start reads, writes only what differs, and tags; a second start writes nothing new', async () => {
    const ec2 = new FakeEc2(['rtb-a', 'rtb-b']);
    ec2.tables.get('rtb-a')!.set(CIDR, 'eni-1');
    const r = resource(ec2);
    await r.start(makeContext({ node: 'n1', term: '5' }));
    assert.deepEqual(ec2.calls, ['DescribeRouteTables', 'CreateRoute', 'CreateTags']);
    ec2.calls.length = 0;
    await r.start(makeContext({ node: 'n1', term: '6' }));
    assert.deepEqual(ec2.calls, ['DescribeRouteTables', 'CreateTags']);
    await r.stop(makeContext({ node: 'n1' }));
  });

  it('stop never calls the API, so it succeeds while the API is down', async () => {
    const ec2 = new FakeEc2(['rtb-a', 'rtb-b']);
    const r = resource(ec2);
    await r.start(makeContext({ node: 'n1' }));
    ec2.fail = new Ec2Error('X', 'unreachable', 'down');
    ec2.calls.length = 0;
    await r.stop(makeContext({ node: 'n1' }));
    assert.deepEqual(ec2.calls, []);
  });

  it('an unreachable API makes check warn (running) by default and fail with onApiError: fail', async () => {
    for (const onApiError of ['warn', 'fail'] as const) {
      const ec2 = new FakeEc2(['rtb-a', 'rtb-b']);
      const r = resource(ec2, {
        settings: { eni: { n1: 'eni-1' }, callTimeout: 1000, reconcile: 0, onApiError },
      });
      await r.start(makeContext({ node: 'n1' }));
      ec2.fail = new Ec2Error(
        'DescribeRouteTables',
        'timeout',
        'EC2 DescribeRouteTables did not answer within 1s',
      );
      const result = await r.check(makeContext({ node: 'n1' }));
      assert.equal(result.state, onApiError === 'warn' ? 'running' : 'failed');
      assert.match(
        result.reason ?? '',
        /could not verify route 172\.16\.0\.1\/32 .*did not answer within 1s; last verified/,
      );
      await r.stop(makeContext({ node: 'n1' }));
    }
  });

  it('a definitive API answer fails the check whatever onApiError says', async () => {
    const ec2 = new FakeEc2(['rtb-a', 'rtb-b']);
    const r = resource(ec2);
    await r.start(makeContext({ node: 'n1' }));
    ec2.fail = new Ec2Error(
      'DescribeRouteTables',
      'rejected',
      'EC2 DescribeRouteTables was rejected: UnauthorizedOperation',
    );
    const result = await r.check(makeContext({ node: 'n1' }));
    assert.equal(result.state, 'failed');
    assert.match(result.reason ?? '', /UnauthorizedOperation/);
    await r.stop(makeContext({ node: 'n1' }));
  });

  it('check puts drifted routes back and names them', async () => {
    const ec2 = new FakeEc2(['rtb-a', 'rtb-b']);
    const r = resource(ec2);
    await r.start(makeContext({ node: 'n1' }));
    ec2.tables.get('rtb-b')!.set(CIDR, 'eni-9');
    const result = await r.check(makeContext({ node: 'n1' }));
    assert.equal(result.state, 'running');
    assert.match(
      result.reason ?? '',
      /^put back rtb-b \(was eni-9\); route 172\.16\.0\.1\/32 in rtb-a, rtb-b point at eni-1$/,
    );
    assert.equal(ec2.tables.get('rtb-b')!.get(CIDR), 'eni-1');
    await r.stop(makeContext({ node: 'n1' }));
  });

  it('a node missing from the eni map fails start with what to do', async () => {
    const r = resource(new FakeEc2(['rtb-a', 'rtb-b']));
    await assert.rejects(r.start(makeContext({ node: 'n3' })), /no ENI for node n3 in "eni"/);
  });

  it('without an eni map the ENI comes from instance metadata', async () => {
    const ec2 = new FakeEc2(['rtb-a', 'rtb-b']);
    let asked = 0;
    const r = resource(ec2, {
      settings: { callTimeout: 1000, reconcile: 0, onApiError: 'warn' },
      lookupEni: async () => {
        asked++;
        return 'eni-from-imds';
      },
    });
    await r.start(makeContext({ node: 'n1' }));
    assert.equal(asked, 1);
    assert.equal(ec2.tables.get('rtb-a')!.get(CIDR), 'eni-from-imds');
    await r.stop(makeContext({ node: 'n1' }));
  });

  it('fence actions delete the local VIP only when one is held', () => {
    assert.deepEqual(resource(new FakeEc2([])).fenceActions(), []);
    const withLocal = resource(new FakeEc2([]), { local: { ip: '172.16.0.1', prefix: 32, device: 'lo' } });
    assert.deepEqual(withLocal.fenceActions(), [
      { kind: 'ip-del', address: '172.16.0.1', prefix: 32, dev: 'lo' },
    ]);
  });

  it('the reconcile loop repairs drift on its own and stops with the resource', async () => {
    const ec2 = new FakeEc2(['rtb-a', 'rtb-b']);
    const r = resource(ec2, {
      settings: { eni: { n1: 'eni-1' }, callTimeout: 1000, reconcile: 20, onApiError: 'warn' },
    });
    await r.start(makeContext({ node: 'n1' }));
    ec2.tables.get('rtb-a')!.set(CIDR, 'eni-9');
    const deadline = Date.now() + 5000;
    while (ec2.tables.get('rtb-a')!.get(CIDR) !== 'eni-1') {
      assert.ok(Date.now() < deadline, 'loop did not repair');
      await new Promise((res) => setTimeout(res, 10));
    }
    await r.stop(makeContext({ node: 'n1' }));
    ec2.calls.length = 0;
    await new Promise((res) => setTimeout(res, 100));
    assert.deepEqual(ec2.calls, [], 'no calls after stop');
  });
});
