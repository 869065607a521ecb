import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runTool } from '../../../src/engine/resources/ip/ip-command.js';
import { inEachLaunchMode } from '../exec/launch-modes.js';
import { countMarked, uniqueSleep, waitFor } from '../exec/proc-helpers.js';

inEachLaunchMode("runTool, the ip resource's way to run ip and arping", () => {
  it('keeps stdout and stderr apart, with the exit code', async () => {
    const r = await runTool('/bin/sh', ['-c', 'echo "[{}]"; echo "Cannot find device" >&2; exit 1']);
    assert.deepEqual(r, { code: 1, stdout: '[{}]\n', stderr: 'Cannot find device\n' });
  });

  it('reports a program that is not installed as missing (exit 127)', async () => {
    const r = await runTool('halo-test-no-such-tool', []);
    assert.equal(r.code, 127);
    assert.equal(r.missing, true);
    assert.match(r.stderr, /ENOENT/);
  });

  it('does not hand the agent’s environment (cloud credentials) to the tool', async () => {
    process.env['AWS_SECRET_ACCESS_KEY'] = 'agent-only-secret';
    try {
      const r = await runTool('/bin/sh', ['-c', 'echo "[$AWS_SECRET_ACCESS_KEY][$PATH]"']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^\[\]\[\/usr\/local\/sbin:/);
    } finally {
      delete process.env['AWS_SECRET_ACCESS_KEY'];
    }
  });

  it('kills a tool that outlives its timeout and says so', async () => {
    const marker = uniqueSleep();
    const r = await runTool('sleep', [marker], { timeoutMs: 300 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /sleep timed out after 300 ms/);
    assert.ok(await waitFor(async () => (await countMarked(marker)) === 0), 'the tool is gone');
  });

  it('kills a tool when its operation is aborted, and runs none once aborted', async () => {
    const marker = uniqueSleep();
    const controller = new AbortController();
    const running = runTool('sleep', [marker], { signal: controller.signal, timeoutMs: 60_000 });
    assert.ok(await waitFor(async () => (await countMarked(marker)) === 1), 'the tool started');
    controller.abort();
    const r = await running;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /sleep aborted/);
    assert.ok(await waitFor(async () => (await countMarked(marker)) === 0), 'the tool is gone');
    const again = await runTool('sleep', [marker], { signal: controller.signal });
    assert.equal(again.code, 1);
    assert.equal(await countMarked(marker), 0);
  });
});
