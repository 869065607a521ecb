import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { diffConfig } from '../../../src/config/config-diff.js';
import type { GroupConfig, HaloConfig, MonitorConfig } from '../../../src/config/model.js';
import { isHaloError } from '../../../src/errors.js';
import { group, monitor, setup } from '../../support/engine-harness.js';
import { settle } from '../../support/fake-timers.js';

describe('Engine', () => {
  test('offers candidacy but starts the group only once it holds the lease', async (t) => {
    const { coord, journal, webStatus } = await setup(t);
    assert.equal(coord.candidacy.get('web'), 0);
    assert.deepEqual(journal, []);
    coord.grant('web');
    await settle();
    assert.deepEqual(journal, ['start vip', 'start app']);
    const status = webStatus();
    assert.equal(status.phase, 'running');
    assert.equal(status.owner, 'n1');
    assert.deepEqual(
      status.resources.map((r) => r.state),
      ['running', 'running'],
    );
    assert.deepEqual(
      coord.fence.get('web')?.map((a) => (a.kind === 'run' ? a.argv[1] : '')),
      ['app', 'vip'],
    );
  });

  test('a demote stops the group without releasing the lease', async (t) => {
    const { coord, journal, webStatus } = await setup(t);
    coord.grant('web');
    await settle();
    coord.demote('web');
    await settle();
    assert.deepEqual(journal.slice(2), ['stop app', 'stop vip']);
    assert.equal(webStatus().phase, 'stopped');
    assert.ok(!coord.calls.includes('release web'));
    assert.deepEqual(coord.fence.get('web'), []);
  });

  test('a failed start stops what started, marks this node failed and releases', async (t) => {
    const { coord, resources, journal, webStatus, events } = await setup(t);
    resources.get('web/app').startBehavior = 'fail';
    coord.grant('web');
    await settle();
    assert.deepEqual(journal, ['start vip', 'start app', 'stop app', 'stop vip']);
    assert.equal(coord.intent()['group/web/failed/n1']?.value, true);
    assert.match(
      String(coord.intent()['group/web/failedReason/n1']?.value),
      /start failed: app: start of app failed/,
    );
    assert.ok(coord.calls.includes('release web'));
    assert.equal(coord.candidacy.get('web'), null);
    assert.deepEqual(webStatus().intent.failedNodes, ['n1']);
    const failure = events('group').find((e) => e.level === 'error');
    assert.equal(failure?.output, 'app said no');
  });

  test('a failing monitor restarts its target, then fails the group over', async (t) => {
    const appw = monitor('appw', {
      target: 'app',
      startWaitMs: 500,
      onFailure: { restart: 1, then: 'failover' },
    });
    const { coord, monitors, journal, timers, webStatus, events } = await setup(t, {
      groups: [group('web', [appw])],
    });
    coord.grant('web');
    await settle();
    await timers.advance(500);
    assert.equal(webStatus().monitors[0]?.state, 'passing');
    monitors.get('web/appw')!.ok = false;
    monitors.get('web/appw')!.output = 'app not answering';
    await timers.advance(1000);
    assert.deepEqual(journal.slice(2), ['stop app', 'start app']);
    assert.equal(webStatus().monitors[0]?.restarts, 1);
    await timers.advance(500);
    assert.deepEqual(journal.slice(2), ['stop app', 'start app', 'stop app', 'stop vip']);
    assert.equal(coord.intent()['group/web/failed/n1']?.value, true);
    assert.ok(coord.calls.includes('release web'));
    assert.equal(webStatus().phase, 'stopped');
    assert.ok(events('recovery').some((e) => /failover of web decided/.test(e.message)));
    const monitorEvent = events('monitor').find((e) => e.level === 'warn');
    assert.equal(monitorEvent?.output, 'app not answering');
  });

  test('a monitor failover stops and releases the group even when the failure mark cannot be stored, and stores the mark later', async (t) => {
    const appw = monitor('appw', {
      target: 'app',
      startWaitMs: 500,
      onFailure: { restart: 0, then: 'failover' },
    });
    const { coord, monitors, journal, timers, webStatus, events } = await setup(t, {
      groups: [group('web', [appw])],
    });
    coord.grant('web');
    await settle();
    await timers.advance(500);
    assert.equal(webStatus().monitors[0]?.state, 'passing');
    coord.intentFails = 'HALO_E_STATE_WRITE_FAILED';
    monitors.get('web/appw')!.ok = false;
    await timers.advance(1000);
    assert.deepEqual(journal.slice(2), ['stop app', 'stop vip'], 'the group is stopped here');
    assert.ok(coord.calls.includes('release web'));
    assert.equal(coord.intent()['group/web/failed/n1'], undefined, 'the mark could not be stored');
    assert.equal(coord.candidacy.get('web'), null, 'n1 stays out of the group');
    assert.ok(
      events('group').some((e) => e.level === 'error' && /could not be marked failed/.test(e.message)),
    );
    coord.intentFails = false;
    await timers.advance(1000);
    assert.equal(coord.intent()['group/web/failed/n1']?.value, true, 'the mark is retried and stored');
    assert.deepEqual(journal.slice(2), ['stop app', 'stop vip'], 'nothing started again');
  });

  test('a failed stop withdraws candidacy, alerts and never releases', async (t) => {
    const { engine, coord, resources, webStatus, events } = await setup(t);
    coord.grant('web');
    await settle();
    resources.get('web/app').stopBehavior = 'fail';
    await engine.stopGroup('web');
    await settle();
    assert.equal(webStatus().phase, 'failed-stop');
    assert.equal(coord.candidacy.get('web'), null);
    assert.ok(!coord.calls.includes('release web'));
    assert.ok(coord.calls.includes('abandon web'));
    assert.ok(events('alert').some((e) => /stop of app failed/.test(e.message)));
    assert.ok(coord.fence.get('web')!.length > 0, 'the deadman keeps its fence actions');
  });

  test('after a failed stop the node stops counting itself owner once another owner shows up', async (t) => {
    const { engine, coord, resources, webStatus, events } = await setup(t);
    coord.grant('web');
    await settle();
    resources.get('web/app').stopBehavior = 'fail';
    await engine.move('web', 'n2');
    await settle();
    assert.equal(webStatus().phase, 'failed-stop');
    assert.equal(webStatus().owner, 'n1', 'the abandoned lease still runs');
    coord.setOwner('web', 'n2');
    await settle();
    assert.equal(webStatus().owner, 'n2');
    assert.equal(webStatus().heldHere, false);
    assert.equal(webStatus().phase, 'failed-stop', 'only the operator clears a failed stop');
    assert.ok(events('lease').some((e) => /ran out after the failed stop/.test(e.message)));
    await engine.clearFailures('web');
    await settle();
    assert.equal(webStatus().phase, 'stopped');
  });

  test('an admin stop stops and releases; an admin start makes the node a candidate again', async (t) => {
    const { engine, coord, journal, webStatus } = await setup(t);
    coord.grant('web');
    await settle();
    await engine.stopGroup('web');
    await settle();
    assert.deepEqual(journal.slice(2), ['stop app', 'stop vip']);
    assert.ok(coord.calls.includes('release web'));
    assert.equal(coord.candidacy.get('web'), null);
    assert.equal(webStatus().intent.state, 'stopped');
    await engine.startGroup('web');
    await settle();
    assert.equal(coord.candidacy.get('web'), 0);
  });

  test('a move to another node stops, releases and leaves the target the only candidate', async (t) => {
    const { engine, coord, journal } = await setup(t);
    coord.grant('web');
    await settle();
    assert.deepEqual(await engine.move('web'), { to: 'n2' });
    await settle();
    assert.deepEqual(journal.slice(2), ['stop app', 'stop vip']);
    assert.ok(coord.calls.includes('release web'));
    assert.equal(coord.candidacy.get('web'), null);
    await assert.rejects(
      engine.move('web', 'n9'),
      (err) => isHaloError(err) && err.code === 'HALO_E_BAD_REQUEST',
    );
    await assert.rejects(engine.move('nope'), (err) => isHaloError(err) && err.code === 'HALO_E_NOT_FOUND');
  });

  test('restart parameters stay pending until the resource restarts; live ones apply at once', async (t) => {
    const { engine, coord, resources, webStatus } = await setup(t);
    coord.grant('web');
    await settle();
    const before = resources.get('web/app');
    assert.deepEqual(await engine.setParams('web', 'app', { port: 8080, mode: 'fast' }), {
      live: ['mode'],
      pending: ['port'],
    });
    assert.deepEqual(before.live, [{ mode: 'fast' }]);
    assert.deepEqual(webStatus().resources[1]?.pendingParams, { port: 8080 });
    coord.demote('web');
    await settle();
    coord.grant('web');
    await settle();
    const after = resources.get('web/app');
    assert.notEqual(after, before);
    assert.deepEqual(after.params, { port: 8080, mode: 'fast' });
    assert.deepEqual(webStatus().resources[1]?.pendingParams, {});
  });

  test('parameter changes are validated against the resource type schema', async (t) => {
    const { engine } = await setup(t);
    const badRequest = (err: unknown) => isHaloError(err) && err.code === 'HALO_E_BAD_REQUEST';
    await assert.rejects(engine.setParams('web', 'app', { port: 'eighty' }), badRequest);
    await assert.rejects(engine.setParams('web', 'app', { colour: 'red' }), badRequest);
    await assert.rejects(engine.setParams('web', 'app', {}), badRequest);
    assert.deepEqual(await engine.setParams('web', 'app', { port: 81 }), { live: ['port'], pending: [] });
    assert.deepEqual(engine.getParams('web', 'app'), { params: { port: 81, mode: 'slow' }, pending: {} });
  });

  test('a failing node-level monitor makes the node ineligible and its groups move away', async (t) => {
    const fsx = monitor('fsx', { onFailure: { restart: 0, then: 'ineligible' } });
    const { engine, coord, monitors, journal, timers } = await setup(t, { nodeMonitors: [fsx] });
    coord.grant('web');
    await settle();
    await timers.advance(0);
    monitors.get('fsx')!.ok = false;
    await timers.advance(1000);
    assert.equal(coord.nodeStatus.eligible, false);
    assert.equal(engine.status().eligible, false);
    assert.deepEqual(journal.slice(2), ['stop app', 'stop vip']);
    assert.ok(coord.calls.includes('release web'));
    assert.equal(coord.candidacy.get('web'), null);
    monitors.get('fsx')!.ok = true;
    await timers.advance(1000);
    assert.equal(coord.nodeStatus.eligible, true);
    assert.equal(coord.candidacy.get('web'), 0);
  });

  test('after releasing the group the node offers its candidacy again', async (t) => {
    const fsx = monitor('fsx', { onFailure: { restart: 0, then: 'ineligible' } });
    const { coord, monitors, timers } = await setup(t, { nodeMonitors: [fsx] });
    coord.grant('web');
    await settle();
    monitors.get('fsx')!.ok = false;
    await timers.advance(1000);
    coord.calls.length = 0;
    monitors.get('fsx')!.ok = true;
    await timers.advance(1000);
    assert.deepEqual(coord.calls, ['candidacy web 0']);
  });

  test('an ineligible node keeps its group when no other node can take it', async (t) => {
    const fsx = monitor('fsx', { onFailure: { restart: 0, then: 'ineligible' } });
    const { coord, monitors, journal, timers } = await setup(t, { nodeMonitors: [fsx] });
    coord.setMember('n2', { up: false, eligible: true });
    coord.grant('web');
    await settle();
    monitors.get('fsx')!.ok = false;
    await timers.advance(1000);
    assert.equal(coord.nodeStatus.eligible, false);
    assert.deepEqual(journal, ['start vip', 'start app']);
  });

  test('a suspended monitor stops probing and a resumed one starts again', async (t) => {
    const appw = monitor('appw', { target: 'app' });
    const { engine, coord, monitors, timers, webStatus } = await setup(t, { groups: [group('web', [appw])] });
    coord.grant('web');
    await settle();
    await timers.advance(1000);
    const probes = monitors.get('web/appw')!.probes;
    await engine.suspendMonitor('appw');
    await timers.advance(5000);
    assert.equal(monitors.get('web/appw')!.probes, probes);
    assert.equal(webStatus().monitors[0]?.state, 'suspended');
    await engine.resumeMonitor('web/appw');
    await timers.advance(1000);
    assert.ok(monitors.get('web/appw')!.probes > probes);
  });

  test('stop() stops local groups in reverse order and releases them', async (t) => {
    const { engine, coord, journal } = await setup(t, { groups: [group('a'), group('b')] });
    coord.grant('a');
    coord.grant('b');
    await settle();
    journal.length = 0;
    await engine.stop();
    assert.deepEqual(journal, ['stop app', 'stop vip', 'stop app', 'stop vip']);
    const releases = coord.calls.filter((c) => c.startsWith('release'));
    assert.deepEqual(releases, ['release b', 'release a']);
  });

  test('an activation is recorded as a timeline up to the first passing monitor', async (t) => {
    const appw = monitor('appw', { target: 'app' });
    const { coord, timers, webStatus } = await setup(t, { groups: [group('web', [appw])] });
    coord.grant('web');
    await settle();
    await timers.advance(0);
    const timeline = webStatus().lastTimeline;
    assert.deepEqual(
      timeline?.steps.map((s) => s.phase),
      ['lease-granted', 'started', 'healthy'],
    );
  });

  test('an intent write that fails is retried later', async (t) => {
    const { coord, resources, timers } = await setup(t);
    resources.get('web/app').startBehavior = 'fail';
    coord.intentFails = true;
    coord.grant('web');
    await settle();
    assert.ok(!coord.calls.includes('release web'));
    coord.intentFails = false;
    await timers.advance(1000);
    assert.equal(coord.intent()['group/web/failed/n1']?.value, true);
    assert.ok(coord.calls.includes('release web'));
  });

  test('status reports groups, resources and monitors as plain data', async (t) => {
    const appw = monitor('appw', { target: 'app' });
    const { engine } = await setup(t, { groups: [group('web', [appw])], nodeMonitors: [monitor('fsx')] });
    const status = engine.status();
    assert.deepEqual(Object.keys(status), [
      'node',
      'eligible',
      'ineligibleReasons',
      'standbyNodes',
      'maintenance',
      'groups',
      'monitors',
    ]);
    assert.deepEqual(JSON.parse(JSON.stringify(status)), status);
    const web = status.groups[0]!;
    assert.deepEqual(
      { owner: web.owner, heldHere: web.heldHere, phase: web.phase, failed: web.failed },
      { owner: null, heldHere: false, phase: 'stopped', failed: false },
    );
    assert.deepEqual(
      web.monitors.map((m) => [m.key, m.state]),
      [['web/appw', 'inactive']],
    );
    assert.deepEqual(
      status.monitors.map((m) => [m.key, m.state]),
      [['fsx', 'pending']],
    );
  });
});

describe('Engine node standby', () => {
  test('standby drains the groups one at a time, in reverse config order; unstandby makes the node a candidate again', async (t) => {
    const { engine, coord, journal, events } = await setup(t, { groups: [group('a'), group('b')] });
    coord.grant('a');
    coord.grant('b');
    await settle();
    journal.length = 0;
    const release = coord.release.bind(coord);
    coord.release = async (g: string) => {
      journal.push(`release ${g}`);
      await release(g);
    };
    assert.deepEqual(await engine.setStandby('n1', true), { held: ['a', 'b'], stopping: [] });
    await settle();
    assert.deepEqual(journal, ['stop app', 'stop vip', 'release b', 'stop app', 'stop vip', 'release a']);
    assert.equal(coord.candidacy.get('a'), null);
    assert.equal(coord.candidacy.get('b'), null);
    assert.equal(coord.intent()['node/n1/standby']?.value, true);
    assert.deepEqual(engine.status().standbyNodes, ['n1']);
    assert.ok(events('intent').some((e) => e.message === 'standby of node n1 requested'));

    await engine.setStandby('n1', false);
    await settle();
    assert.equal(coord.candidacy.get('a'), 0);
    assert.deepEqual(engine.status().standbyNodes, []);
    assert.ok(events('intent').some((e) => e.message === 'unstandby of node n1 requested'));
  });

  test('a group no other node can take is named as stopping; an unknown node is 404', async (t) => {
    const { engine, coord } = await setup(t);
    coord.grant('web');
    coord.setMember('n2', { up: false, eligible: true });
    await settle();
    assert.deepEqual(await engine.setStandby('n1', true), { held: ['web'], stopping: ['web'] });
    await settle();
    assert.ok(coord.calls.includes('release web'));
    await assert.rejects(
      engine.setStandby('n9', true),
      (err) =>
        isHaloError(err) && err.code === 'HALO_E_NOT_FOUND' && /the nodes are n1, n2/.test(err.message),
    );
  });
});

describe('Engine failure history', () => {
  const timed = (timeoutMs: number, monitors: MonitorConfig[] = []): GroupConfig => ({
    ...group('web', monitors),
    failureTimeoutMs: timeoutMs,
  });

  test('a failure mark expires after failureTimeout: a timer wakes the engine and the node is a candidate again', async (t) => {
    const { coord, resources, timers, webStatus, events } = await setup(t, { groups: [timed(60_000)] });
    resources.get('web/app').startBehavior = 'fail';
    coord.grant('web');
    await settle();
    const markedAt = timers.wallNow();
    assert.equal(coord.intent()['group/web/failedAt/n1']?.value, markedAt, 'the mark carries its time');
    assert.equal(coord.candidacy.get('web'), null);
    assert.deepEqual(webStatus().intent.failures, {
      n1: {
        reason: 'start failed: app: start of app failed',
        since: new Date(markedAt).toISOString(),
        expiresAt: new Date(markedAt + 60_000).toISOString(),
        expired: false,
      },
    });
    await timers.advance(59_999);
    assert.equal(coord.candidacy.get('web'), null, 'still counted');
    await timers.advance(1);
    assert.equal(coord.candidacy.get('web'), 0, 'eligible again at failureTimeout');
    assert.deepEqual(webStatus().intent.failedNodes, []);
    assert.deepEqual(webStatus().intent.expiredNodes, ['n1']);
    assert.equal(webStatus().intent.failures.n1?.expired, true);
    assert.equal(
      events('group').filter((e) =>
        /failure mark of n1 for web expired \(failureTimeout 1m\)/.test(e.message),
      ).length,
      1,
      'announced once',
    );
    // It fails again: a new mark with a new time, counted again.
    coord.grant('web');
    await settle();
    assert.equal(coord.candidacy.get('web'), null);
    assert.deepEqual(webStatus().intent.failedNodes, ['n1']);
    assert.equal(coord.intent()['group/web/failedAt/n1']?.value, timers.wallNow());
  });

  test('without failureTimeout a mark lasts; cleanup clears it, resets the monitor counters and probes again', async (t) => {
    const appw = monitor('appw', {
      target: 'app',
      startWaitMs: 500,
      onFailure: { restart: 1, then: 'failover' },
    });
    const { engine, coord, monitors, resources, journal, timers, webStatus, events } = await setup(t, {
      groups: [group('web', [appw])],
    });
    coord.grant('web');
    await settle();
    await timers.advance(500);
    monitors.get('web/appw')!.ok = false;
    await timers.advance(1500);
    assert.deepEqual(webStatus().intent.failedNodes, ['n1']);
    assert.equal(webStatus().monitors[0]?.restarts, 1);
    await timers.advance(5 * 60_000);
    assert.deepEqual(webStatus().intent.failedNodes, ['n1'], 'no timeout: the mark stays');
    assert.equal(coord.candidacy.get('web'), null);

    // Something left a copy of app running here: the probe after the cleanup must find it.
    resources.get('web/app').stray = true;
    const before = journal.length;
    assert.deepEqual(await engine.cleanup('web'), { cleared: ['n1'] });
    await settle();
    assert.equal(coord.intent()['group/web/failed/n1']?.value, false);
    assert.equal(coord.candidacy.get('web'), 0, 'a candidate again at once');
    assert.equal(webStatus().monitors[0]?.restarts, 0);
    assert.equal(webStatus().monitors[0]?.consecutiveFailures, 0);
    assert.deepEqual(journal.slice(before), ['stop app'], 'the re-probe found the copy and stopped it');
    assert.ok(
      events('intent').some((e) => /cleanup of web requested: failure marks of n1 cleared/.test(e.message)),
    );
    assert.ok(
      events('group').some((e) =>
        /cleanup of web on n1: failure counters reset, probing again/.test(e.message),
      ),
    );
  });

  test('cleanup of one node clears only its mark, and a node not named does nothing else', async (t) => {
    const { engine, coord, timers, events } = await setup(t);
    await coord.updateIntent({ 'group/web/failed/n1': true, 'group/web/failed/n2': true });
    await settle();
    assert.equal(coord.candidacy.get('web'), null);
    assert.deepEqual(await engine.cleanup('web', { node: 'n2' }), { cleared: ['n2'] });
    await timers.advance(10);
    assert.equal(coord.intent()['group/web/failed/n1']?.value, true);
    assert.equal(coord.intent()['group/web/failed/n2']?.value, false);
    assert.equal(coord.candidacy.get('web'), null, 'n1 is still marked');
    assert.ok(!events('group').some((e) => /cleanup of web on n1/.test(e.message)), 'n1 was not asked');
    assert.deepEqual(await engine.cleanup('web', { resource: 'app', node: 'n1' }), { cleared: ['n1'] });
    await timers.advance(10);
    assert.equal(coord.candidacy.get('web'), 0);
    assert.ok(events('group').some((e) => /cleanup of web\/app on n1/.test(e.message)));
    await assert.rejects(
      engine.cleanup('web', { resource: 'nope' }),
      (err) => isHaloError(err) && err.code === 'HALO_E_NOT_FOUND',
    );
    await assert.rejects(
      engine.cleanup('web', { node: 'n9' }),
      (err) => isHaloError(err) && err.code === 'HALO_E_BAD_REQUEST',
    );
    await assert.rejects(
      engine.cleanup('nope'),
      (err) => isHaloError(err) && err.code === 'HALO_E_NOT_FOUND',
    );
  });

  test('a cleanup written by another node is carried out here once', async (t) => {
    const { coord, timers, events } = await setup(t);
    const cleanups = () => events('group').filter((e) => /cleanup of web on n1/.test(e.message)).length;
    await coord.updateIntent({ 'group/web/cleanup': { resource: null, node: null } });
    await timers.advance(10);
    assert.equal(cleanups(), 1);
    await coord.updateIntent({ 'group/web/state': 'started' });
    await timers.advance(10);
    assert.equal(cleanups(), 1, 'an unrelated intent change repeats nothing');
    await coord.updateIntent({ 'group/web/cleanup': { resource: null, node: 'n2' } });
    await timers.advance(10);
    assert.equal(cleanups(), 1, 'a cleanup of n2 only is not for n1');
  });
});

describe('Engine config reload', () => {
  /** `config` with `edit` applied to a deep copy, and the diff `halo config apply` computes. */
  function reloaded(config: HaloConfig, edit: (c: HaloConfig) => void) {
    const next = structuredClone(config);
    edit(next);
    return { next, diff: diffConfig(config, next) };
  }

  test('a restart parameter restarts just its resource (and its dependents), a live one applies in place, other groups are not touched', async (t) => {
    const { engine, coord, resources, journal, monitors, timers, events } = await setup(t, {
      groups: [
        group('web', [monitor('wm', { target: 'app', onFailure: { restart: 3, then: 'failover' } })]),
        group('db', [monitor('dm', { retries: 5 })]),
      ],
    });
    coord.grant('web');
    coord.grant('db');
    await settle();
    await timers.advance(1000);
    monitors.get('db/dm')!.ok = false;
    await timers.advance(1000);
    const failuresBefore = engine.status().groups.find((g) => g.name === 'db')!
      .monitors[0]!.consecutiveFailures;
    assert.ok(failuresBefore > 0, 'db/dm has counted a failure');
    monitors.get('db/dm')!.ok = true;
    journal.length = 0;
    const current = (engine as unknown as { core: { opts: { config: HaloConfig } } }).core.opts.config;
    const { next, diff } = reloaded(current, (c) => {
      const app = c.groups[0]!.resources[1]!;
      app.params = { port: 81, mode: 'fast' };
    });
    assert.deepEqual(diff.needsRestart, []);
    const report = await engine.reload(next, diff, 'restart');
    assert.deepEqual(report.resources, [
      { group: 'web', resource: 'app', applied: ['mode'], restart: ['port'], overridden: [] },
    ]);
    assert.deepEqual(report.restarting, ['web/app']);
    await timers.advance(200);
    await engine.reloadSettled();
    assert.deepEqual(journal, ['stop app', 'start app'], 'only app restarted; db untouched');
    assert.deepEqual(resources.get('web/app').params, { port: 81, mode: 'fast' });
    assert.ok(events('recovery').some((e) => /restarting app: the config changed/.test(e.message)));
    const dm = engine.status().groups.find((g) => g.name === 'db')!.monitors[0]!;
    assert.equal(dm.consecutiveFailures, failuresBefore, "db's monitor keeps its counters");
  });

  test('next-start leaves the restart parameter pending; a changed monitor starts afresh, the others keep theirs', async (t) => {
    const { engine, coord, journal, webStatus } = await setup(t, {
      groups: [group('web', [monitor('a'), monitor('b')])],
    });
    coord.grant('web');
    await settle();
    journal.length = 0;
    const current = (engine as unknown as { core: { opts: { config: HaloConfig } } }).core.opts.config;
    const { next, diff } = reloaded(current, (c) => {
      c.groups[0]!.resources[1]!.params = { port: 82, mode: 'slow' };
      c.groups[0]!.monitors[1]!.intervalMs = 2000;
    });
    const report = await engine.reload(next, diff, 'next-start');
    assert.deepEqual(report.restarting, []);
    assert.deepEqual(report.monitors, { added: [], changed: ['web/b'], removed: [] });
    await engine.reloadSettled();
    assert.deepEqual(journal, [], 'nothing stopped or started');
    assert.deepEqual(webStatus().resources[1]!.pendingParams, { port: 82 });
  });
});

test('a config reload restarts nothing in a group in maintenance: the values wait for its next start', async (t) => {
  const { engine, coord, journal, webStatus } = await setup(t);
  coord.grant('web');
  await settle();
  await engine.setMaintenance('web', true);
  await settle();
  journal.length = 0;
  const current = (engine as unknown as { core: { opts: { config: HaloConfig } } }).core.opts.config;
  const next = structuredClone(current);
  next.groups[0]!.resources[1]!.params = { port: 83, mode: 'slow' };
  const report = await engine.reload(next, diffConfig(current, next), 'restart');
  assert.deepEqual(report.restarting, [], 'pending, not restarted');
  await engine.reloadSettled();
  assert.deepEqual(journal, [], 'nothing stopped or started');
  assert.deepEqual(webStatus().resources[1]!.pendingParams, { port: 83 });
});
