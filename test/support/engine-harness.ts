import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { z } from 'zod';
import type { GroupConfig, HaloConfig, MonitorConfig } from '../../src/config/model.js';
import { Engine } from '../../src/engine/engine.js';
import { EventLog } from '../../src/engine/event-log.js';
import { monitorKey } from '../../src/engine/intent.js';
import { silentLogger } from '../../src/log.js';
import { FakeCoordinator } from './fake-coordinator.js';
import { FakeMonitor, FakeResources } from './fake-resource.js';
import { FakeTimers, settle } from './fake-timers.js';

/**
 * The engine on a fake clock for unit tests: node n1 of n1+n2, fake resources (vip, then app)
 * and monitors, a fake coordinator the test grants leases with. Shared by the engine tests.
 */

export function monitor(name: string, over: Partial<MonitorConfig> = {}): MonitorConfig {
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

export function group(name: string, monitors: MonitorConfig[] = []): GroupConfig {
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

/** A two-node test cluster (n1, n2; fast timing) around `groups`, as the loader would return it. */
export function twoNodeConfig(
  groups: GroupConfig[],
  opts: { monitors?: MonitorConfig[]; waitForAllMs?: number } = {},
): HaloConfig {
  return {
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
      waitForAllMs: opts.waitForAllMs ?? 10_000,
      unsafe: false,
    },
    nodes: [
      { name: 'n1', address: '127.0.0.1', peerPort: 7401, apiPort: 7400, links: [], weight: 1 },
      { name: 'n2', address: '127.0.0.1', peerPort: 7411, apiPort: 7410, links: [], weight: 1 },
    ],
    groups,
    monitors: opts.monitors ?? [],
  };
}

export async function setup(
  t: TestContext,
  opts: { groups?: GroupConfig[]; nodeMonitors?: MonitorConfig[] } = {},
) {
  const dir = await mkdtemp(join(tmpdir(), 'halo-engine-'));
  const timers = new FakeTimers();
  const coord = new FakeCoordinator('n1', ['n2']);
  const resources = new FakeResources();
  const monitors = new Map<string, FakeMonitor>();
  const eventLog = new EventLog({ dir, node: 'n1', wallNow: () => timers.wallNow() });
  const config = twoNodeConfig(opts.groups ?? [group('web')], { monitors: opts.nodeMonitors ?? [] });
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
