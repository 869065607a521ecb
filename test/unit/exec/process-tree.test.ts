import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import {
  findProcesses,
  isAlive,
  killTree,
  processTreePids,
  terminateTree,
} from '../../../src/engine/exec/process-tree.js';
import { countMarked, killMarked, markerPattern, uniqueSleep, waitFor } from './proc-helpers.js';

function spawnTree(script: string) {
  const child = spawn('/bin/sh', ['-c', script], { detached: true, stdio: 'ignore' });
  assert.ok(child.pid);
  return { child, pid: child.pid, exited: new Promise((resolve) => child.once('exit', resolve)) };
}

describe('process trees', () => {
  it('lists a process, its descendants and its group', async (t) => {
    const a = uniqueSleep();
    const b = uniqueSleep();
    const tree = spawnTree(`sleep ${a} & setsid sleep ${b} & wait`);
    t.after(async () => {
      await killMarked(a);
      await killMarked(b);
      tree.child.kill('SIGKILL');
    });
    assert.ok(await waitFor(async () => (await countMarked(a)) + (await countMarked(b)) === 2));
    const pids = await processTreePids(tree.pid);
    const marked = [...(await findProcesses(markerPattern(a))), ...(await findProcesses(markerPattern(b)))];
    assert.equal(pids[0], tree.pid);
    for (const found of marked) assert.ok(pids.includes(found.pid), `missing ${found.cmdline}`);
  });

  it('finds processes by command line', async (t) => {
    const a = uniqueSleep();
    const tree = spawnTree(`exec sleep ${a}`);
    t.after(() => tree.child.kill('SIGKILL'));
    assert.ok(await waitFor(async () => (await findProcesses(markerPattern(a))).length === 1));
    const [found] = await findProcesses(markerPattern(a));
    assert.equal(found?.pid, tree.pid);
    assert.equal(found?.cmdline, `sleep ${a}`);
  });

  it('tells live processes from exited ones', async () => {
    const tree = spawnTree('exit 0');
    await tree.exited;
    assert.equal(isAlive(tree.pid), false);
    assert.equal(isAlive(process.pid), true);
    assert.equal(isAlive(-1), false);
  });

  it('signals every member of a tree once', async (t) => {
    const a = uniqueSleep();
    const tree = spawnTree(`setsid sleep ${a} & wait`);
    t.after(() => killMarked(a));
    assert.ok(await waitFor(async () => (await countMarked(a)) === 1));
    const signalled = await killTree(tree.pid, 'SIGKILL');
    assert.ok(signalled.includes(tree.pid));
    assert.ok(await waitFor(async () => (await countMarked(a)) === 0));
  });

  it('ends a tree whose leader dies first and whose children ignore SIGTERM', async (t) => {
    const a = uniqueSleep();
    // The leader exits on TERM; its child ignores TERM and is re-parented to init.
    const tree = spawnTree(
      `(trap '' TERM; exec sleep ${a}) & trap 'exit 0' TERM; while :; do sleep 0.05; done`,
    );
    t.after(() => killMarked(a));
    assert.ok(await waitFor(async () => (await countMarked(a)) === 1));
    const result = await terminateTree(tree.pid, { graceMs: 300 });
    assert.equal(result.escalated, true);
    assert.deepEqual(result.remaining, []);
    assert.equal(await countMarked(a), 0);
  });

  it('does not escalate when the tree exits on the first signal', async (t) => {
    const a = uniqueSleep();
    const tree = spawnTree(`sleep ${a} & wait`);
    t.after(() => killMarked(a));
    assert.ok(await waitFor(async () => (await countMarked(a)) === 1));
    const result = await terminateTree(tree.pid, { graceMs: 10_000 });
    assert.equal(result.escalated, false);
    assert.equal(await countMarked(a), 0);
  });
});
