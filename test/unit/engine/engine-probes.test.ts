import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import type { GroupConfig } from '../../../src/config/model.js';
import { Engine } from '../../../src/engine/engine.js';
import { EventLog } from '../../../src/engine/event-log.js';
import { silentLogger } from '../../../src/log.js';
import { twoNodeConfig } from '../../support/engine-harness.js';
import { FakeCoordinator } from '../../support/fake-coordinator.js';
import { FakeMonitor, type FakeResource, FakeResources } from '../../support/fake-resource.js';
import { FakeTimers, settle } from '../../support/fake-timers.js';

/** Engine n1 of n1+n2 with group `web` (vip → app, probed every 5 s); `stray` presets copies found at start. */
async function setup(
  t: TestContext,
  opts: { stray?: string[]; stopFails?: string[]; checkGate?: Promise<void> } = {},
) {
  const dir = await mkdtemp(join(tmpdir(), 'halo-probes-'));
  const timers = new FakeTimers();
  const coord = new FakeCoordinator('n1', ['n2']);
  const resources = new FakeResources();
  for (const r of opts.stray ?? []) resources.presets.set(`web/${r}`, { stray: true });
  if (opts.checkGate)
    resources.presets.set('web/vip', { ...resources.presets.get('web/vip'), checkGate: opts.checkGate });
  for (const r of opts.stopFails ?? [])
    resources.presets.set(`web/${r}`, { ...resources.presets.get(`web/${r}`), stopBehavior: 'fail' });
  const eventLog = new EventLog({ dir, node: 'n1', wallNow: () => timers.wallNow() });
  const web: GroupConfig = {
    name: 'web',
    nodes: ['n1', 'n2'],
    autoFailback: false,
    fencing: 'lease',
    probeIntervalMs: 5000,
    resources: [
      { name: 'vip', type: 'fake', after: [], params: {} },
      { name: 'app', type: 'fake', after: ['vip'], params: {} },
    ],
    monitors: [],
  };
  const config = twoNodeConfig([web], { waitForAllMs: 0 });
  const engine = new Engine({
    config,
    node: 'n1',
    coordinator: coord,
    resources: resources.factory,
    monitors: () => new FakeMonitor(),
    eventLog,
    timers,
    log: silentLogger,
    stateDir: dir,
  });
  t.after(async () => {
    await engine.stop();
    await eventLog.stop();
    await rm(dir, { recursive: true, force: true });
  });
  await eventLog.start();
  const res = (name: string): FakeResource => resources.get(`web/${name}`);
  const probeEvents = () => eventLog.recent().filter((e) => e.details?.['probe'] === true);
  const status = () => engine.status().groups[0]!;
  return { engine, coord, timers, journal: resources.journal, res, probeEvents, status };
}

describe('Engine probes', () => {
  test('at agent start a copy found where nobody owns the group is stopped before anything starts', async (t) => {
    const { engine, coord, journal, probeEvents, status } = await setup(t, { stray: ['app'] });
    await engine.start();
    await settle();
    assert.deepEqual(journal, ['stop app']);
    const [found, resource, stopped] = probeEvents();
    assert.match(
      found!.message,
      /found active on n1, which does not hold the group's lease; stopping app here/,
    );
    assert.equal(resource!.resource, 'app');
    assert.equal(resource!.output, 'fake check', 'the event carries what the check said');
    assert.match(stopped!.message, /stopped the copy of web on n1 \(app\)/);
    assert.equal(status().resources[1]!.lastCheck?.state, 'running', 'status shows what the probe found');
    coord.grant('web');
    await settle();
    assert.deepEqual(journal, ['stop app', 'start vip', 'start app'], 'the owner then starts its own copy');
  });

  test('a lease granted while the startup probe runs waits for it: the start comes after the stop', async (t) => {
    let answer = () => {};
    const checkGate = new Promise<void>((resolve) => {
      answer = resolve;
    });
    const { engine, coord, journal, probeEvents } = await setup(t, { stray: ['vip', 'app'], checkGate });
    await engine.start();
    await settle();
    assert.deepEqual(journal, [], 'the probe is still waiting for the check of vip');
    coord.grant('web');
    await settle();
    assert.deepEqual(journal, [], 'the start waits for the probe');
    answer();
    await settle();
    // The lease landed before the checks answered: the copies are the new owner's to replace
    // (a resource's start takes over or ends what it finds), so the probe stops nothing.
    assert.deepEqual(journal, ['start vip', 'start app']);
    const noted = probeEvents().filter((e) => e.details?.['takenOver'] === true);
    assert.deepEqual(
      noted.map((e) => e.resource),
      ['vip', 'app'],
      'what the probe found is on record, though the start replaced it',
    );
    assert.match(noted[0]!.message, /acquired web meanwhile; its start replaces this copy/);
  });

  test('a copy appearing on a standby while the other node owns the group is stopped at the next probe as multiple active', async (t) => {
    const { engine, coord, timers, journal, res, probeEvents } = await setup(t);
    await engine.start();
    coord.setOwner('web', 'n2');
    await settle();
    assert.deepEqual(journal, []);
    res('app').stray = true;
    await timers.advance(5000);
    assert.deepEqual(journal, ['stop app']);
    const [found] = probeEvents();
    assert.equal(found!.level, 'error');
    assert.match(found!.message, /active on n2 and found active on n1 \(multiple active\)/);
    assert.equal(found!.details?.['multipleActive'], true);
    await timers.advance(5000);
    assert.deepEqual(journal, ['stop app'], 'a clean probe does nothing');
  });

  test('the owner does not probe: its own copies are left running', async (t) => {
    const { engine, coord, timers, journal } = await setup(t);
    await engine.start();
    coord.grant('web');
    await settle();
    await timers.advance(20_000);
    assert.deepEqual(journal, ['start vip', 'start app']);
  });

  test('a copy that cannot be stopped keeps this node from becoming owner and raises an alert', async (t) => {
    const { engine, coord, status, probeEvents } = await setup(t, { stray: ['app'], stopFails: ['app'] });
    await engine.start();
    await settle();
    assert.equal(status().phase, 'failed-stop');
    assert.equal(coord.candidacy.get('web'), null);
    assert.ok(coord.calls.includes('abandon web'));
    assert.ok(!probeEvents().some((e) => /stopped the copy/.test(e.message)));
    assert.match(status().lastError ?? '', /app: stop of app failed/);
  });
});
