import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { processGroupAlive } from '../../../src/coordination/deadman/actions.js';
import { openLifeline } from '../../../src/coordination/deadman/lifeline.js';
import { buildSpawn, holdGroup, useLifeline } from '../../../src/engine/exec/index.js';
import { tempDir } from '../../support/temp-dir.js';

/**
 * The lifeline watcher on real processes: this test process plays the agent (it holds the
 * FIFO) and a second Node process plays the deadman helper (it holds the FIFO by name).
 */

function killGroup(pgid: number | undefined): void {
  try {
    if (pgid !== undefined && pgid > 1) process.kill(-pgid, 'SIGKILL');
  } catch {
    // gone
  }
}

async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Live (non-zombie) members of a process group, from /proc. */
function groupMembers(pgid: number): number {
  let n = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(rest[2]) === pgid && rest[0] !== 'Z') n++;
  }
  return n;
}

function watcherRunning(pgid: number): boolean {
  return readdirSync('/proc').some((entry) => {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (
        Number(rest[2]) === pgid &&
        readFileSync(`/proc/${entry}/cmdline`, 'utf8').startsWith('/bin/sh\0-c\0read ')
      );
    } catch {
      return false;
    }
  });
}

function holds(pid: number, path: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === path;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/** A lifeline held by this process and by a stand-in helper process; both released after the test. */
async function lifeline(t: TestContext) {
  const dir = tempDir(t, 'halo-lifeline-');
  const path = join(dir, 'deadman.lifeline');
  const own = openLifeline(path);
  const helper: ChildProcess = spawn(
    process.execPath,
    ['-e', `require('node:fs').openSync(${JSON.stringify(path)}, 'r+'); setInterval(() => {}, 1000);`],
    { stdio: 'ignore' },
  );
  useLifeline(own.readFd, join(dir, 'unmanaged'));
  t.after(() => {
    useLifeline(null);
    own.close();
    helper.kill('SIGKILL');
  });
  await until(() => holds(helper.pid!, path), 'the stand-in helper to hold the lifeline');
  return { own, helper };
}

async function startWatched(t: TestContext, argv: string[], group?: string): Promise<number> {
  const spec = await buildSpawn(argv, { lifeline: true, ...(group ? { env: { HALO_GROUP: group } } : {}) });
  const child = spawn(spec.file, spec.args, {
    ...spec.options,
    stdio: ['ignore', 'ignore', 'ignore', ...spec.extraFds],
  });
  const pid = child.pid!;
  t.after(() => killGroup(pid));
  child.unref();
  // The program and its watcher, once the watcher runs as itself (before that, in the
  // moment between fork and exec, it still ignores SIGINT like any background job).
  await until(() => groupMembers(pid) >= 2 && watcherRunning(pid), 'the watcher in the program’s group');
  return pid;
}

describe('lifeline watcher', () => {
  afterEach(() => useLifeline(null));

  it('keeps the program’s PID as the group leader and gives the program no fd 3', async (t) => {
    await lifeline(t);
    const pid = await startWatched(t, ['sleep', '1000']);
    await until(() => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep\0'), 'the exec');
    assert.equal(existsSync(`/proc/${pid}/fd/3`), false);
  });

  it('SIGKILLs the program’s whole process group only once the agent and the helper both let go', async (t) => {
    const { own, helper } = await lifeline(t);
    const pid = await startWatched(t, ['/bin/sh', '-c', 'sleep 1000 & sleep 1000 & wait']);
    await until(() => groupMembers(pid) >= 4, 'both sleeps');
    own.close();
    useLifeline(null);
    await sleep(300);
    assert.ok(processGroupAlive(pid), 'the helper still holds the lifeline: nothing happens');
    helper.kill('SIGKILL');
    await until(() => !processGroupAlive(pid), 'the group to be gone');
  });

  it('spares a program of a group in maintenance (its hold file exists) until the hold is lifted', async (t) => {
    const { own, helper } = await lifeline(t);
    const pid = await startWatched(t, ['sleep', '1000'], 'web');
    holdGroup('web', true);
    own.close();
    helper.kill('SIGKILL');
    await sleep(1500);
    assert.ok(processGroupAlive(pid), 'agent and helper gone, but the group is held: the program runs on');
    holdGroup('web', false);
    await until(() => !processGroupAlive(pid), 'the group to be gone once the hold is lifted', 3000);
  });

  it('ends with the program on SIGINT, which background jobs of a shell would otherwise ignore', async (t) => {
    await lifeline(t);
    const pid = await startWatched(t, ['sleep', '1000']);
    process.kill(-pid, 'SIGINT');
    await until(() => !processGroupAlive(pid), 'the program and its watcher to be gone', 2000);
  });

  it('wraps nothing when the agent holds no lifeline', async () => {
    useLifeline(null);
    const spec = await buildSpawn(['sleep', '1'], { lifeline: true });
    assert.deepEqual([spec.file, ...spec.args], ['sleep', '1']);
    assert.deepEqual(spec.extraFds, []);
  });
});
