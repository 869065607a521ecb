import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { intentKeys } from '../../../src/engine/intent.js';
import { isHaloError } from '../../../src/errors.js';
import { settle } from '../../support/fake-timers.js';

/**
 * Maintenance mode in the engine, on the fake clock: the group is frozen as it is, its monitors
 * and probes pause, the deadman gets nothing to stop, and leaving maintenance probes first.
 */

import { group, monitor, setup } from '../../support/engine-harness.js';

const appw = () => monitor('appw', { retries: 0, onFailure: { restart: 1, then: 'failover' } });

async function running(t: TestContext, opts: Parameters<typeof setup>[1] = {}) {
  const ctx = await setup(t, { groups: [group('web', [appw()])], ...opts });
  ctx.coord.grant('web');
  await settle();
  await ctx.timers.advance(10);
  await settle();
  assert.equal(ctx.webStatus().phase, 'running');
  ctx.journal.length = 0;
  return ctx;
}

describe('Engine in maintenance', () => {
  test('entering maintenance clears the deadman fence of the group; leaving re-arms it', async (t) => {
    const { engine, coord, webStatus, events } = await running(t);
    assert.ok(coord.fence.get('web')!.length > 0);
    await engine.setMaintenance('web', true);
    await settle();
    assert.deepEqual(
      coord.fence.get('web'),
      [],
      'a dead agent leaves the group to its helper: nothing to stop',
    );
    assert.equal(webStatus().maintenance, true);
    assert.ok(events('intent').some((e) => e.message === 'maintenance of group web on requested'));
    await engine.setMaintenance('web', false);
    await settle();
    assert.deepEqual(
      coord.fence.get('web')?.map((a) => (a.kind === 'run' ? a.argv[1] : '')),
      ['app', 'vip'],
    );
    assert.equal(webStatus().maintenance, false);
  });

  test('cluster maintenance clears the fence too, and shows at cluster and group level', async (t) => {
    const { engine, coord } = await running(t);
    await engine.setMaintenance(null, true);
    await settle();
    assert.deepEqual(coord.fence.get('web'), []);
    assert.equal(engine.status().maintenance, true);
    assert.equal(engine.status().groups[0]!.maintenance, true);
  });

  test('a lost lease, a stop request or a failing monitor change nothing; no failure is counted', async (t) => {
    const { engine, coord, journal, monitors, timers, webStatus } = await running(t);
    await engine.setMaintenance('web', true);
    await settle();
    monitors.get('web/appw')!.ok = false;
    await timers.advance(5000);
    await settle();
    const m = webStatus().monitors[0]!;
    assert.equal(m.state, 'suspended');
    assert.equal(m.consecutiveFailures, 0);
    await engine.stopGroup('web');
    coord.demote('web');
    await settle();
    await timers.advance(5000);
    await settle();
    assert.deepEqual(journal, [], 'nothing stopped, started or restarted');
    assert.equal(webStatus().phase, 'running');
    assert.equal(coord.candidacy.get('web'), null, 'without the lease it does not compete either');
  });

  test('the owner keeps its candidacy (it renews) and a fresh lease starts nothing', async (t) => {
    const { engine, coord, journal } = await setup(t);
    await engine.setMaintenance('web', true);
    await settle();
    assert.equal(coord.candidacy.get('web'), null, 'nobody competes for a group in maintenance');
    coord.grant('web');
    await settle();
    assert.equal(coord.candidacy.get('web'), 0, 'the holder keeps renewing');
    assert.deepEqual(journal, []);
  });

  test('probes skip a group in maintenance; leaving it probes first, then stands for the group', async (t) => {
    const { engine, coord, resources, journal, timers } = await setup(t);
    await engine.setMaintenance('web', true);
    await settle();
    resources.get('web/app').stray = true;
    await timers.advance(30_000);
    await settle();
    assert.deepEqual(journal, [], 'the copy found is left alone');
    // Hold the probe in flight: the node must not compete before it answered.
    let open!: () => void;
    resources.get('web/app').checkGate = new Promise<void>((r) => {
      open = r;
    });
    await engine.setMaintenance('web', false);
    await settle();
    assert.equal(coord.candidacy.get('web'), null, 'not a candidate before the probe answered');
    resources.get('web/app').checkGate = undefined;
    open();
    await settle();
    assert.deepEqual(journal, ['stop app'], 'the copy without a lease is stopped by the probe');
    const since = coord.intent()[intentKeys.maintenance('web')]!.version;
    assert.equal(coord.intent()[intentKeys.probed('web', 'n1')]?.value, since, 'its probe is recorded');
    assert.equal(coord.candidacy.get('web'), null, 'n2 is up and has not probed yet');
    await coord.updateIntent({ [intentKeys.probed('web', 'n2')]: since });
    await settle();
    assert.equal(coord.candidacy.get('web'), 0, 'every node probed: it stands again');
  });

  test('the owner vouches for its group when it leaves maintenance: no probe, no wait', async (t) => {
    const { engine, coord, journal } = await running(t);
    await engine.setMaintenance('web', true);
    await settle();
    await engine.setMaintenance('web', false);
    await settle();
    const since = coord.intent()[intentKeys.maintenance('web')]!.version;
    assert.equal(coord.intent()[intentKeys.probed('web', 'n1')]?.value, since);
    assert.equal(coord.candidacy.get('web'), 0);
    assert.deepEqual(journal, []);
  });

  test('an unknown group is HALO_E_NOT_FOUND and writes nothing', async (t) => {
    const { engine, coord } = await setup(t);
    await assert.rejects(
      engine.setMaintenance('nope', true),
      (e) => isHaloError(e) && e.code === 'HALO_E_NOT_FOUND',
    );
    assert.equal(coord.intent()[intentKeys.maintenance('nope')], undefined);
  });

  test('cluster maintenance suspends node-level monitors', async (t) => {
    const { engine, monitors, timers } = await setup(t, { nodeMonitors: [monitor('fsx')] });
    await engine.setMaintenance(null, true);
    await settle();
    monitors.get('fsx')!.ok = false;
    await timers.advance(5000);
    await settle();
    assert.equal(engine.status().monitors[0]!.state, 'suspended');
    assert.equal(engine.status().eligible, true);
  });

  test('an agent stop leaves a group in maintenance running and does not release it', async (t) => {
    const { engine, coord, journal } = await running(t);
    await engine.setMaintenance('web', true);
    await settle();
    await engine.stop();
    assert.deepEqual(journal, []);
    assert.ok(!coord.calls.includes('release web'));
  });
});
