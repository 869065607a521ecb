import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { awsRouteVipResource } from '../../../src/engine/resources/aws-route-vip/index.js';
import { resourceTypes as resourceSpecs } from '../../../src/engine/resources/registry.js';

describe('aws-route-vip parameters', () => {
  it('fills defaults: 2s per call, 10s reconcile, warn on API errors, VIP on lo', () => {
    const p = awsRouteVipResource.params.parse({ ip: '172.16.0.1', routeTables: ['rtb-00000001'] });
    assert.equal(p.callTimeout, 2000);
    assert.equal(p.reconcile, 10_000);
    assert.equal(p.onApiError, 'warn');
    assert.equal(p.device, 'lo');
    assert.equal(p.localAddress, true);
    assert.deepEqual(p.timeout, { start: 30_000, stop: 10_000, check: 20_000 });
  });

  it('rejects ids that are not route tables or ENIs', () => {
    const r = awsRouteVipResource.params.safeParse({
      ip: '172.16.0.1',
      routeTables: ['table-1'],
      eni: { server1: 'nic-1' },
    });
    assert.equal(r.success, false);
    const paths = r.error!.issues.map((i) => i.path.join('.')).sort();
    assert.deepEqual(paths, ['eni.server1', 'routeTables.0']);
  });

  it('validate reports a table listed twice and a check budget below two calls', () => {
    const p = awsRouteVipResource.params.parse({
      ip: '172.16.0.1',
      routeTables: ['rtb-1', 'rtb-1'],
      callTimeout: '15s',
    });
    assert.deepEqual(awsRouteVipResource.validate!(p), [
      ['routeTables[1]', 'route table rtb-1 is listed twice'],
      ['timeout.check', 'expected at least twice callTimeout (a check reads, then may write)'],
    ]);
  });

  it('every AWS type is unique across groups by the address it moves', () => {
    assert.deepEqual(resourceSpecs.get('aws-route-vip')?.uniqueAcrossGroups, ['ip']);
    assert.deepEqual(resourceSpecs.get('aws-eip')?.uniqueAcrossGroups, ['allocationId']);
    assert.deepEqual(resourceSpecs.get('aws-secondary-ip')?.uniqueAcrossGroups, ['ip']);
  });
});
