import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GroupConfig, ResourceConfig } from '../../../src/config/model.js';
import {
  dependentsOf,
  GroupRunner,
  opTimeouts,
  type ResourceRunState,
} from '../../../src/engine/group-runner.js';
import { silentLogger } from '../../../src/log.js';
import { FakeResource } from '../../support/fake-resource.js';
import { FakeTimers } from '../../support/fake-timers.js';

function res(name: string, after: string[] = [], params: Record<string, unknown> = {}): ResourceConfig {
  return { name, type: 'fake', after, params };
}

function setup(resources: ResourceConfig[]) {
  const group: GroupConfig = {
    name: 'g',
    nodes: ['n1'],
    autoFailback: false,
    fencing: 'lease',
    resources,
    monitors: [],
  };
  const journal: string[] = [];
  const fakes = new Map(resources.map((r) => [r.name, new FakeResource(r.name, r.params, journal)]));
  const states: Array<[string, ResourceRunState]> = [];
  const timers = new FakeTimers();
  const runner = new GroupRunner({
    group,
    timers,
    instance: (name) => fakes.get(name)!,
    context: (resource, term, signal) => ({
      cluster: 'c',
      node: 'n1',
      group: 'g',
      resource,
      term,
      signal,
      log: silentLogger,
      stateDir: '/nonexistent',
    }),
    onChange: (name, state) => states.push([name, state]),
  });
  return { runner, fakes, journal, states, timers, fake: (n: string) => fakes.get(n)! };
}

/** Lets promise callbacks queued by an abort run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('GroupRunner', () => {
  test('starts resources in config order and stops them in reverse', async () => {
    const { runner, journal } = setup([res('vip'), res('fs', ['vip']), res('app', ['fs'])]);
    assert.deepEqual(await runner.start('t1'), { status: 'ok' });
    assert.deepEqual(await runner.stop('t1'), { status: 'ok' });
    assert.deepEqual(journal, ['start vip', 'start fs', 'start app', 'stop app', 'stop fs', 'stop vip']);
  });

  test('a failed start stops the failed resource and the started ones in reverse and reports the output', async () => {
    const { runner, journal, fake } = setup([res('vip'), res('fs'), res('app')]);
    fake('fs').startBehavior = 'fail';
    const result = await runner.start('t1');
    assert.deepEqual(result, {
      status: 'start-failed',
      resource: 'fs',
      reason: 'start of fs failed',
      output: 'fs said no',
      aborted: false,
    });
    assert.deepEqual(journal, ['start vip', 'start fs', 'stop fs', 'stop vip']);
  });

  test('a start that hangs is aborted at its timeout and cleaned up', async () => {
    const { runner, journal, fake, timers } = setup([
      res('vip'),
      res('app', [], { timeout: { start: 5000 } }),
    ]);
    fake('app').startBehavior = 'hang';
    const pending = runner.start('t1');
    await timers.advance(4999);
    assert.deepEqual(journal, ['start vip', 'start app']);
    await timers.advance(1);
    const result = await pending;
    assert.equal(result.status, 'start-failed');
    assert.match(result.status === 'start-failed' ? result.reason : '', /start timed out after 5000ms/);
    assert.deepEqual(journal, ['start vip', 'start app', 'stop app', 'stop vip']);
  });

  test('a start aborted by the caller is reported as aborted', async () => {
    const { runner, fake } = setup([res('app')]);
    fake('app').startBehavior = 'hang';
    const abort = new AbortController();
    const pending = runner.start('t1', abort.signal);
    abort.abort();
    const result = await pending;
    assert.equal(result.status, 'start-failed');
    assert.equal(result.status === 'start-failed' && result.aborted, true);
  });

  test('an aborted start that is still acting is waited for before the cleanup stop runs', async () => {
    const { runner, journal, fake } = setup([res('vip'), res('app')]);
    fake('vip').startBehavior = 'late';
    const abort = new AbortController();
    const pending = runner.start('t1', abort.signal);
    abort.abort();
    await flush();
    // The abort has fired but the address is still being added: stopping now would be undone.
    assert.deepEqual(journal, ['start vip']);
    fake('vip').finishLate();
    const result = await pending;
    assert.equal(result.status === 'start-failed' && result.aborted, true);
    assert.deepEqual(journal, ['start vip', 'start vip returned', 'stop vip']);
    assert.equal(fake('vip').started, false);
  });

  test('a start that times out is given a grace to return before the cleanup stop', async () => {
    const { runner, journal, fake, timers } = setup([res('app', [], { timeout: { start: 2000 } })]);
    fake('app').startBehavior = 'late';
    const pending = runner.start('t1');
    await timers.advance(2000);
    await timers.advance(1999);
    assert.deepEqual(journal, ['start app']);
    fake('app').finishLate();
    const result = await pending;
    assert.equal(result.status, 'start-failed');
    assert.deepEqual(journal, ['start app', 'start app returned', 'stop app']);
  });

  test('a start that never returns after its abort leaves an unknown state, reported as a failed stop', async () => {
    const { runner, journal, fake, timers } = setup([res('app', [], { timeout: { start: 20_000 } })]);
    fake('app').startBehavior = 'stuck';
    const abort = new AbortController();
    const pending = runner.start('t1', abort.signal);
    await timers.advance(8000);
    abort.abort();
    // The abort leaves the start the rest of its own timeout (12 s here) to return.
    await timers.advance(11_999);
    assert.deepEqual(journal, ['start app']);
    await timers.advance(1);
    const result = await pending;
    assert.equal(result.status, 'stop-failed');
    assert.match(result.status === 'stop-failed' ? result.reason : '', /start aborted.*state is unknown/);
    // The cleanup stop was still tried: it may well have worked.
    assert.deepEqual(journal, ['start app', 'stop app']);
  });

  test('a restart whose start never returns is reported as a failed stop', async () => {
    const { runner, fake, timers } = setup([res('app', [], { timeout: { start: 1000 } })]);
    await runner.start('t1');
    fake('app').startBehavior = 'stuck';
    const pending = runner.restart('app', 't1');
    await timers.advance(1000);
    await timers.advance(1000);
    const result = await pending;
    assert.equal(result.status, 'stop-failed');
  });

  test('a failing cleanup stop after a failed start is reported as stop-failed', async () => {
    const { runner, fake } = setup([res('vip'), res('app')]);
    fake('app').startBehavior = 'fail';
    fake('vip').stopBehavior = 'fail';
    const result = await runner.start('t1');
    assert.equal(result.status, 'stop-failed');
    assert.equal(result.status === 'stop-failed' && result.resource, 'vip');
  });

  test('a stop failure halts the stop and is reported, leaving earlier resources running', async () => {
    const { runner, journal, fake } = setup([res('vip'), res('app')]);
    await runner.start('t1');
    fake('app').stopBehavior = 'fail';
    const result = await runner.stop('t1');
    assert.deepEqual(result, {
      status: 'stop-failed',
      resource: 'app',
      reason: 'stop of app failed',
      output: 'app said no',
    });
    assert.deepEqual(journal.slice(2), ['stop app']);
  });

  test('a stop that ignores its abort is reported as timed out without waiting for it', async () => {
    const { runner, fake, timers } = setup([res('app', [], { timeout: { stop: '2s' } })]);
    fake('app').stopBehavior = 'stuck';
    const pending = runner.stop('t1');
    await timers.advance(2000);
    const result = await pending;
    assert.equal(result.status, 'stop-failed');
    assert.match(result.status === 'stop-failed' ? result.reason : '', /stop timed out after 2000ms/);
  });

  test('restarting a resource restarts its dependents around it', async () => {
    const { runner, journal } = setup([res('vip'), res('fs'), res('app', ['fs']), res('web', ['app'])]);
    await runner.start('t1');
    journal.length = 0;
    assert.deepEqual(await runner.restart('fs', 't1'), { status: 'ok' });
    assert.deepEqual(journal, ['stop web', 'stop app', 'stop fs', 'start fs', 'start app', 'start web']);
  });

  test('resource states are reported as operations run', async () => {
    const { runner, states } = setup([res('app')]);
    await runner.start('t1');
    assert.deepEqual(states, [
      ['app', 'starting'],
      ['app', 'running'],
    ]);
  });
});

describe('opTimeouts()', () => {
  test('uses 60s/60s/20s when the resource sets no timeout', () => {
    assert.deepEqual(opTimeouts(res('a')), { start: 60_000, stop: 60_000, check: 20_000 });
  });

  test('takes milliseconds or duration strings from params.timeout', () => {
    assert.deepEqual(opTimeouts(res('a', [], { timeout: { start: 1500, stop: '3s' } })), {
      start: 1500,
      stop: 3000,
      check: 20_000,
    });
  });
});

describe('dependentsOf()', () => {
  test('follows after-links transitively and keeps config order', () => {
    const list = [res('a'), res('b', ['a']), res('c'), res('d', ['b', 'c'])];
    assert.deepEqual(
      dependentsOf(list, 'a').map((r) => r.name),
      ['a', 'b', 'd'],
    );
  });
});
