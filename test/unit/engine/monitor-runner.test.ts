import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MonitorConfig } from '../../../src/config/model.js';
import { MonitorRunner, type ProbeReport } from '../../../src/engine/monitor-runner.js';
import { silentLogger } from '../../../src/log.js';
import { FakeMonitor } from '../../support/fake-resource.js';
import { FakeTimers } from '../../support/fake-timers.js';

function setup(overrides: Partial<MonitorConfig> = {}) {
  const config: MonitorConfig = {
    name: 'm',
    type: 'fake',
    intervalMs: 1000,
    timeoutMs: 300,
    retries: 0,
    startWaitMs: 500,
    onFailure: { restart: 0, then: 'none' },
    params: {},
    ...overrides,
  };
  const timers = new FakeTimers();
  const monitor = new FakeMonitor();
  const reports: ProbeReport[] = [];
  const runner = new MonitorRunner({
    config,
    instance: monitor,
    timers,
    context: (signal) => ({ cluster: 'c', node: 'n1', monitor: 'm', signal, log: silentLogger }),
    onResult: (r) => reports.push(r),
  });
  return { runner, timers, monitor, reports };
}

describe('MonitorRunner', () => {
  test('waits startWait, then probes every interval', async () => {
    const { runner, timers, monitor, reports } = setup();
    runner.setActive(true);
    await timers.advance(499);
    assert.equal(monitor.probes, 0);
    await timers.advance(1);
    assert.equal(monitor.probes, 1);
    await timers.advance(3000);
    assert.equal(monitor.probes, 4);
    assert.ok(reports.every((r) => r.ok && r.status === 'done'));
    await runner.stop();
  });

  test('a probe that hangs is reported as a failure at its timeout', async () => {
    const { runner, timers, monitor, reports } = setup({ startWaitMs: 0 });
    monitor.hang = true;
    runner.setActive(true);
    await timers.advance(300);
    assert.equal(reports.length, 1);
    assert.deepEqual({ ok: reports[0]!.ok, status: reports[0]!.status }, { ok: false, status: 'timeout' });
    assert.match(reports[0]!.output, /timed out after 300ms/);
    await runner.stop();
  });

  test('deactivating aborts the probe in flight and stops probing', async () => {
    const { runner, timers, monitor, reports } = setup({ startWaitMs: 0 });
    monitor.hang = true;
    runner.setActive(true);
    await timers.advance(100);
    assert.equal(runner.state, 'probing');
    await runner.stop();
    await timers.advance(5000);
    assert.equal(reports.length, 0);
    assert.equal(monitor.probes, 1);
    assert.equal(runner.state, 'inactive');
  });

  test('each activation starts over with startWait', async () => {
    const { runner, timers, monitor } = setup();
    runner.setActive(true);
    await timers.advance(600);
    runner.setActive(false);
    runner.setActive(true);
    await timers.advance(499);
    assert.equal(monitor.probes, 1);
    await timers.advance(1);
    assert.equal(monitor.probes, 2);
    await runner.stop();
  });

  test('a failing probe result is passed on with its output', async () => {
    const { runner, timers, monitor, reports } = setup({ startWaitMs: 0 });
    monitor.ok = false;
    monitor.output = 'connection refused';
    runner.setActive(true);
    await timers.advance(0);
    assert.deepEqual(
      { ok: reports[0]!.ok, output: reports[0]!.output },
      { ok: false, output: 'connection refused' },
    );
    await runner.stop();
  });
});
