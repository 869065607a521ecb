import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { processMonitor } from '../../../src/engine/monitors/process/index.js';
import { processMonitorParams } from '../../../src/engine/monitors/process/params.js';
import { countMarked, killMarked, uniqueSleep, waitFor } from '../exec/proc-helpers.js';
import { monitorContext } from './context.js';

function create(input: Record<string, unknown>) {
  return processMonitor.create('m1', processMonitorParams.parse(input));
}

describe('process monitor', () => {
  it('passes while enough processes match and lists them', async (t) => {
    const marker = uniqueSleep();
    const child = spawn('sleep', [marker], { stdio: 'ignore' });
    t.after(() => killMarked(marker));
    assert.ok(await waitFor(async () => (await countMarked(marker)) === 1));
    const match = `^sleep ${marker.replace('.', '\\.')}$`;
    const result = await create({ match }).probe(monitorContext());
    assert.deepEqual(result, {
      ok: true,
      output: `1 process match /${match}/ (need 1): ${child.pid} sleep ${marker}`,
    });
    const tooFew = await create({ match, minCount: 2 }).probe(monitorContext());
    assert.equal(tooFew.ok, false);
    assert.match(tooFew.output, /^1 process match .* \(need 2\)/);
  });

  it('fails when nothing matches', async () => {
    const result = await create({ match: '^halo-no-such-program-\\d+$' }).probe(monitorContext());
    assert.deepEqual(result, {
      ok: false,
      output: '0 processes match /^halo-no-such-program-\\d+$/ (need 1)',
    });
  });

  it('asks the target resource when there is no match', async () => {
    const monitor = create({});
    const running = await monitor.probe(
      monitorContext({ checkTarget: async () => ({ state: 'running', reason: 'pid 123 is alive' }) }),
    );
    assert.deepEqual(running, { ok: true, output: 'running: pid 123 is alive' });
    const failed = await monitor.probe(
      monitorContext({
        checkTarget: async () => ({ state: 'failed', reason: 'pid 123 exited with code 5' }),
      }),
    );
    assert.deepEqual(failed, { ok: false, output: 'failed: pid 123 exited with code 5' });
    const noTarget = await monitor.probe(monitorContext());
    assert.equal(noTarget.ok, false);
    assert.match(noTarget.output, /no target resource/);
  });
});
