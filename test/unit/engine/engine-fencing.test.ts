import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import type { GroupConfig } from '../../../src/config/model.js';
import { Engine } from '../../../src/engine/engine.js';
import { EventLog } from '../../../src/engine/event-log.js';
import type { FenceDevice } from '../../../src/engine/fencing/types.js';
import { silentLogger } from '../../../src/log.js';
import { twoNodeConfig } from '../../support/engine-harness.js';
import { FakeCoordinator } from '../../support/fake-coordinator.js';
import { FakeMonitor, FakeResources } from '../../support/fake-resource.js';
import { FakeTimers, settle } from '../../support/fake-timers.js';

/** A fence device the test answers by hand: each call waits until resolved or rejected. */
class FakeDevice implements FenceDevice {
  readonly calls: string[] = [];
  private pending: Array<{ ok: () => void; fail: (e: Error) => void }> = [];
  fence(node: string, signal: AbortSignal): Promise<{ detail: string }> {
    this.calls.push(node);
    return new Promise((resolve, reject) => {
      this.pending.push({ ok: () => resolve({ detail: `${node} off (fake)` }), fail: reject });
      signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    });
  }
  confirm(): void {
    this.pending.shift()?.ok();
  }
  fail(message: string): void {
    this.pending.shift()?.fail(new Error(message));
  }
}

function stonithGroup(): GroupConfig {
  return {
    name: 'web',
    nodes: ['n1', 'n2'],
    autoFailback: false,
    fencing: 'stonith',
    stonith: {
      device: { type: 'command', agent: '/bin/false', options: {}, nodes: { n1: {}, n2: {} } },
      timeoutMs: 30_000,
      delayMs: { n2: 2000 },
      randomDelayMs: 0,
      retryIntervalMs: 5000,
    },
    resources: [{ name: 'vip', type: 'fake', after: [], params: {} }],
    monitors: [],
  };
}

async function setup(t: TestContext) {
  const dir = await mkdtemp(join(tmpdir(), 'halo-fencing-'));
  const timers = new FakeTimers();
  const coord = new FakeCoordinator('n1', ['n2']);
  const resources = new FakeResources();
  const device = new FakeDevice();
  const eventLog = new EventLog({ dir, node: 'n1', wallNow: () => timers.wallNow() });
  const config = twoNodeConfig([stonithGroup()]);
  const engine = new Engine({
    config,
    node: 'n1',
    coordinator: coord,
    resources: resources.factory,
    monitors: () => new FakeMonitor(),
    fenceDevice: () => device,
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
  const web = () => engine.status().groups.find((g) => g.name === 'web')!;
  const messages = () => eventLog.recent().map((e) => e.message);
  /** n2 held the lease under t2, then its lease ended (no release seen). */
  const n2HeldThenLost = () => {
    coord.setOwner('web', 'n2');
    coord.setOwner('web', null);
  };
  return { engine, coord, device, timers, journal: resources.journal, web, messages, n2HeldThenLost };
}

describe('fencing: stonith in the engine', () => {
  test('the new owner fences the previous owner after its delay and starts only once the device confirms', async (t) => {
    const { coord, device, timers, journal, web, messages, n2HeldThenLost } = await setup(t);
    n2HeldThenLost();
    coord.grant('web', 't3');
    await settle();
    // The static delay for fencing n2 (2 s) runs first; nothing is fenced or started.
    assert.deepEqual(device.calls, []);
    assert.deepEqual(journal, []);
    assert.equal(web().fencing?.phase, 'waiting');
    await timers.advance(2500);
    assert.deepEqual(device.calls, ['n2']);
    assert.deepEqual(journal, []);
    assert.equal(web().fencing?.phase, 'fencing');
    device.confirm();
    await settle();
    await timers.advance(10);
    assert.deepEqual(journal, ['start vip']);
    assert.equal(web().phase, 'running');
    assert.equal(web().fencing?.phase, 'fenced');
    const all = messages();
    const fenced = all.findIndex((m) => /^n2 fenced/.test(m));
    const started = all.findIndex((m) => m === 'vip running');
    assert.ok(fenced >= 0 && started > fenced, `fenced before started: ${JSON.stringify(all)}`);
  });

  test('a failed fence keeps the group down with the reason in status, and is retried until it succeeds', async (t) => {
    const { coord, device, timers, journal, web, n2HeldThenLost } = await setup(t);
    n2HeldThenLost();
    coord.grant('web', 't3');
    await timers.advance(2500);
    device.fail('InvalidInstanceID.NotFound');
    await settle();
    await timers.advance(10);
    assert.deepEqual(journal, []);
    assert.equal(web().phase, 'stopped');
    assert.equal(web().heldHere, true);
    assert.match(web().lastError ?? '', /fencing n2 failed \(attempt 1: InvalidInstanceID.NotFound\)/);
    assert.match(web().fencing?.message ?? '', /stays down/);
    // Retried after retryInterval (5 s), not before.
    await timers.advance(4000);
    assert.deepEqual(device.calls, ['n2']);
    await timers.advance(2000);
    assert.deepEqual(device.calls, ['n2', 'n2']);
    device.confirm();
    await settle();
    await timers.advance(1100);
    assert.deepEqual(journal, ['start vip']);
    assert.equal(web().lastError, null);
  });

  test('a fence that never answers times out and counts as failed', async (t) => {
    const { coord, device, timers, journal, web, n2HeldThenLost } = await setup(t);
    n2HeldThenLost();
    coord.grant('web', 't3');
    await timers.advance(2500);
    assert.deepEqual(device.calls, ['n2']);
    await timers.advance(30_000);
    assert.deepEqual(journal, []);
    assert.match(web().lastError ?? '', /fencing n2 failed \(attempt 1: no confirmation within 30000ms\)/);
  });

  test('a clean handover by the previous owner spares the fence', async (t) => {
    const { coord, device, timers, journal, n2HeldThenLost } = await setup(t);
    n2HeldThenLost();
    await coord.updateIntent({ 'group/web/handover': { node: 'n2', term: 't2' } });
    coord.grant('web', 't3');
    await timers.advance(100);
    assert.deepEqual(device.calls, []);
    assert.deepEqual(journal, ['start vip']);
  });

  test('the first owner since the agent started fences nobody; its clean release writes the handover record', async (t) => {
    const { engine, coord, device, timers, journal } = await setup(t);
    coord.grant('web', 't1');
    await timers.advance(100);
    assert.deepEqual(device.calls, []);
    assert.deepEqual(journal, ['start vip']);
    await engine.stop();
    assert.deepEqual(coord.intent()['group/web/handover']?.value, { node: 'n1', term: 't1' });
  });

  test('losing the lease while waiting to fence: no fence, no start', async (t) => {
    const { coord, device, timers, journal, n2HeldThenLost } = await setup(t);
    n2HeldThenLost();
    coord.grant('web', 't3');
    await settle();
    coord.demote('web');
    await timers.advance(5000);
    assert.deepEqual(device.calls, []);
    assert.deepEqual(journal, []);
  });
});
