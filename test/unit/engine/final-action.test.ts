import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import type { FinalAction, GroupConfig } from '../../../src/config/model.js';
import { Engine } from '../../../src/engine/engine.js';
import { EventLog } from '../../../src/engine/event-log.js';
import { silentLogger } from '../../../src/log.js';
import { twoNodeConfig } from '../../support/engine-harness.js';
import { FakeCoordinator } from '../../support/fake-coordinator.js';
import { FakeMonitor, FakeResources } from '../../support/fake-resource.js';
import { FakeTimers, settle } from '../../support/fake-timers.js';

function group(name: string, finalAction?: FinalAction): GroupConfig {
  return {
    name,
    nodes: ['n1', 'n2'],
    autoFailback: false,
    fencing: 'lease',
    ...(finalAction ? { finalAction } : {}),
    resources: [{ name: 'app', type: 'fake', after: [], params: {} }],
    monitors: [],
  };
}

async function setup(t: TestContext, finalAction: FinalAction) {
  const dir = await mkdtemp(join(tmpdir(), 'halo-final-'));
  const timers = new FakeTimers();
  const coord = new FakeCoordinator('n1', ['n2']);
  const resources = new FakeResources();
  const eventLog = new EventLog({ dir, node: 'n1', wallNow: () => timers.wallNow() });
  const config = twoNodeConfig([group('web', finalAction), group('db')]);
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
  await engine.start();
  // db runs here; web already failed on n2.
  await coord.updateIntent({ 'group/web/failed/n2': true });
  coord.grant('db');
  await settle();
  return { dir, coord, resources, timers, eventLog };
}

describe('final action when recovery is exhausted', () => {
  test('stop-groups: this node hands over its other groups once web failed everywhere', async (t) => {
    const { coord, resources, timers, eventLog } = await setup(t, { type: 'stop-groups' });
    assert.equal(resources.get('db/app').started, true);
    resources.get('web/app').startBehavior = 'fail';
    coord.grant('web');
    await timers.advance(3000);
    assert.equal(coord.intent()['group/db/failed/n1']?.value, true);
    assert.equal(resources.get('db/app').started, false);
    assert.ok(coord.calls.includes('release db'));
    assert.ok(
      eventLog
        .recent()
        .some((e) =>
          /final action of web: handing over the other groups of this node \(db\)/.test(e.message),
        ),
    );
  });

  test('command: runs once on the node where recovery ran out, with HALO_GROUP and HALO_NODE', async (t) => {
    const out = join(tmpdir(), `halo-final-${process.pid}-${Date.now()}.txt`);
    t.after(() => rm(out, { force: true }));
    const { coord, resources, timers, eventLog } = await setup(t, {
      type: 'command',
      command: ['sh', '-c', `echo "$HALO_GROUP $HALO_NODE" >> ${out}`],
      timeoutMs: 5000,
    });
    resources.get('web/app').startBehavior = 'fail';
    coord.grant('web');
    await timers.advance(3000);
    for (let i = 0; i < 100 && !eventLog.recent().some((e) => /final action of web/.test(e.message)); i++)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(await readFile(out, 'utf8'), 'web n1\n');
    // The other group is left alone.
    assert.equal(resources.get('db/app').started, true);
    assert.ok(eventLog.recent().some((e) => e.message === 'final action of web: command ran'));
  });
});
