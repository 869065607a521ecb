import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { z } from 'zod';
import type { GroupConfig, HaloConfig, MonitorConfig } from '../../../src/config/model.js';
import { Engine } from '../../../src/engine/engine.js';
import { EventLog } from '../../../src/engine/event-log.js';
import { intentKeys, monitorKey } from '../../../src/engine/intent.js';
import { isHaloError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/log.js';
import { FakeCoordinator } from '../../support/fake-coordinator.js';
import { FakeMonitor, FakeResources } from '../../support/fake-resource.js';
import { FakeTimers, settle } from '../../support/fake-timers.js';

/**
 * Maintenance mode in the engine, on the fake clock: the group is frozen as it is, its monitors
 * and probes pause, the deadman gets nothing to stop, and leaving maintenance probes first.
 */

function monitor(name: string, over: Partial<MonitorConfig> = {}): MonitorConfig {
  return {
    name,
    type: 'fake',
    intervalMs: 1000,
    timeoutMs: 500,
    retries: 0,
    startWaitMs: 0,
    onFailure: { restart: 0, then: 'failover' },
    params: {},
    ...over,
  };
}

function group(name: string, monitors: MonitorConfig[] = []): GroupConfig {
  return {
    name,
    nodes: ['n1', 'n2'],
    autoFailback: false,
    fencing: 'lease',
    resources: [
      { name: 'vip', type: 'fake', after: [], params: {} },
      { name: 'app', type: 'fake', after: ['vip'], params: { port: 80, mode: 'slow' } },
    ],
    monitors,
  };
}

const fakeSpec = {
  params: z.strictObject({ port: z.number().int(), mode: z.enum(['slow', 'fast']) }),
  paramModes: { mode: 'live' as const },
};

async function setup(t: TestContext, opts: { groups?: GroupConfig[]; nodeMonitors?: MonitorConfig[] } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'halo-engine-'));
  const timers = new FakeTimers();
  const coord = new FakeCoordinator('n1', ['n2']);
  const resources = new FakeResources();
  const monitors = new Map<string, FakeMonitor>();
  const eventLog = new EventLog({ dir, node: 'n1', wallNow: () => timers.wallNow() });
  const config: HaloConfig = {
    file: '/etc/halo/halo.yaml',
    epoch: 1,
    version: 1,
    cluster: {
      name: 'test',
      secretFile: '/nonexistent',
      timing: { profile: 'fast', heartbeatMs: 75, leaseMs: 500, renewMs: 75, stopBudgetMs: 150 },
      coordination: { type: 'embedded' },
      api: { port: 7400, host: '127.0.0.1' },
      keepalive: { idleMs: 230_000, intervalMs: 1000, count: 5 },
      waitForAllMs: 10_000,
      unsafe: false,
    },
    nodes: [
      { name: 'n1', address: '127.0.0.1', peerPort: 7401, apiPort: 7400, links: [], weight: 1 },
      { name: 'n2', address: '127.0.0.1', peerPort: 7411, apiPort: 7410, links: [], weight: 1 },
    ],
    groups: opts.groups ?? [group('web')],
    monitors: opts.nodeMonitors ?? [],
  };
  const engine = new Engine({
    config,
    node: 'n1',
    coordinator: coord,
    resources: resources.factory,
    monitors: (m, g) => {
      const fake = new FakeMonitor();
      monitors.set(monitorKey(g?.name, m.name), fake);
      return fake;
    },
    resourceTypes: (type) => (type === 'fake' ? fakeSpec : undefined),
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
  await engine.start();
  await settle();
  const webStatus = () => engine.status().groups.find((g) => g.name === 'web')!;
  const events = (type?: string) => eventLog.recent().filter((e) => type === undefined || e.type === type);
  return {
    engine,
    coord,
    resources,
    monitors,
    timers,
    eventLog,
    journal: resources.journal,
    webStatus,
    events,
  };
}

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
