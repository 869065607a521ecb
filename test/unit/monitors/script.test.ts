import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scriptMonitor } from '../../../src/engine/monitors/script/index.js';
import { scriptMonitorParams } from '../../../src/engine/monitors/script/params.js';
import { countMarked, killMarked, uniqueSleep, waitFor } from '../exec/proc-helpers.js';
import { monitorContext } from './context.js';

function create(input: Record<string, unknown>) {
  return scriptMonitor.create('m1', scriptMonitorParams.parse(input));
}

describe('script monitor', () => {
  it('passes on a success code and shows what the probe printed', async () => {
    const monitor = create({
      command: 'echo "$HALO_MONITOR on $HALO_NODE in $HALO_GROUP: $X fine"',
      env: { X: 'all' },
    });
    assert.deepEqual(await monitor.probe(monitorContext()), { ok: true, output: 'm1 on n1 in g1: all fine' });
  });

  it('fails on another exit code with the code and the output', async () => {
    const monitor = create({ command: ['/bin/sh', '-c', 'echo "disk 97% full" >&2; exit 2'] });
    assert.deepEqual(await monitor.probe(monitorContext()), {
      ok: false,
      output: 'exit code 2: disk 97% full',
    });
  });

  it('treats the configured codes as healthy', async () => {
    const monitor = create({ command: 'exit 1', successCodes: [0, 1] });
    assert.deepEqual(await monitor.probe(monitorContext()), { ok: true, output: 'exit code 1' });
  });

  it('reports a probe that cannot run', async () => {
    const result = await create({ command: ['/nonexistent/probe'] }).probe(monitorContext());
    assert.equal(result.ok, false);
    assert.match(result.output, /could not run the probe: .*ENOENT/);
  });

  it('kills the probe’s tree when the engine’s timeout aborts it', async (t) => {
    const marker = uniqueSleep();
    t.after(() => killMarked(marker));
    const controller = new AbortController();
    const probing = create({ command: `echo checking; sleep ${marker} & wait` }).probe(
      monitorContext({ signal: controller.signal }),
    );
    assert.ok(await waitFor(async () => (await countMarked(marker)) === 1));
    controller.abort(new Error('timeout'));
    const result = await probing;
    assert.equal(result.ok, false);
    assert.match(result.output, /the probe was killed: checking/);
    assert.equal(await countMarked(marker), 0);
  });
});
