import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resourceMonitor } from '../../../src/engine/monitors/resource/index.js';
import { stallMonitor } from '../../../src/engine/monitors/stall/index.js';
import { stallMonitorParams } from '../../../src/engine/monitors/stall/params.js';
import { monitorContext } from './context.js';

describe('resource monitor', () => {
  const monitor = resourceMonitor.create('m1', {});

  it('passes while the target reports running', async () => {
    const result = await monitor.probe(monitorContext({ checkTarget: async () => ({ state: 'running' }) }));
    assert.deepEqual(result, { ok: true, output: 'running' });
  });

  it('fails with the reason when the target is stopped or failed', async () => {
    const stopped = await monitor.probe(
      monitorContext({ checkTarget: async () => ({ state: 'stopped', reason: 'check exited with code 7' }) }),
    );
    assert.deepEqual(stopped, { ok: false, output: 'stopped: check exited with code 7' });
  });

  it('fails with the error when the check itself throws', async () => {
    const result = await monitor.probe(
      monitorContext({
        checkTarget: async () => {
          throw new Error('route table rtb-1 not found');
        },
      }),
    );
    assert.deepEqual(result, {
      ok: false,
      output: 'check of the target failed: route table rtb-1 not found',
    });
  });
});

describe('stall monitor', () => {
  const monitor = stallMonitor.create('m1', stallMonitorParams.parse({ maxLag: '500ms' }));

  it('passes while the event-loop lag is within the limit', async () => {
    const result = await monitor.probe(
      monitorContext({ agentHealth: () => ({ eventLoopLagMs: 12.4, lastTickAgoMs: 80 }) }),
    );
    assert.deepEqual(result, {
      ok: true,
      output: 'event-loop lag 12 ms (limit 500 ms), last tick 80 ms ago',
    });
  });

  it('fails when the lag exceeds the limit', async () => {
    const result = await monitor.probe(
      monitorContext({ agentHealth: () => ({ eventLoopLagMs: 2300, lastTickAgoMs: 2400 }) }),
    );
    assert.deepEqual(result, {
      ok: false,
      output: 'event-loop lag 2300 ms (limit 500 ms), last tick 2400 ms ago',
    });
  });

  it('fails when the agent gives no health figures', async () => {
    const result = await monitor.probe(monitorContext());
    assert.equal(result.ok, false);
  });
});
