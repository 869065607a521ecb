import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeadmanGuard } from '../../src/coordination/shell/deadman-guard.js';
import { type DeadmanChange, DeadmanSupervisor } from '../../src/coordination/shell/deadman-supervisor.js';
import { TaskTracker } from '../../src/coordination/shell/task-tracker.js';
import { silentLogger } from '../../src/log.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * The supervisor with real helper processes: a helper killed behind the agent's back is
 * replaced at once and re-armed, and the replacement carries out what the dead one held.
 */

const monoNow = () => Number(process.hrtime.bigint()) / 1e6;

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function supervisor(t: TestContext, marker: string) {
  const guard = new DeadmanGuard({ slackMs: 100, enabled: true });
  const tasks = new TaskTracker(() => undefined);
  const changes: DeadmanChange[] = [];
  /** guard.canAcquire() at the moment of each change. */
  const acquirable: boolean[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const sup = new DeadmanSupervisor({
    spawn: { nodeName: 'n1', cluster: 'it', epoch: 1, key: randomBytes(32), voters: {}, stderr: 'ignore' },
    log: silentLogger,
    guard,
    actions: () => [{ kind: 'run', argv: ['/bin/sh', '-c', `touch '${marker}'`], timeoutMs: 5000 }],
    task: (name, fn) => void tasks.run(name, fn),
    after: (ms, fn) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        fn();
      }, ms);
      timers.add(timer);
      return () => clearTimeout(timer);
    },
    onChange: (c) => {
      changes.push(c);
      acquirable.push(guard.canAcquire());
    },
  });
  t.after(async () => {
    for (const timer of timers) clearTimeout(timer);
    await tasks.drain();
    await sup.stop();
    const pid = sup.view().pid;
    try {
      if (pid !== null) process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone: the planned stop ended it.
    }
  });
  return { sup, guard, changes, acquirable };
}

test('a killed helper is replaced at once and re-armed, and the replacement fences at the deadline the dead one held', async (t) => {
  const marker = join(tempDir(t, 'halo-supervisor-'), 'fenced');
  const { sup, guard, changes } = supervisor(t, marker);
  await sup.start();
  assert.equal(guard.state, 'ready');
  const first = sup.view().pid!;
  // Armed once, never again: only the re-arm after the restart can make the new helper act.
  sup.arm('g', monoNow() + 2000, {});
  await until(() => sup.view().armed.includes('g'), 'the first ack');
  process.kill(first, 'SIGKILL');
  await until(() => guard.state === 'ready' && sup.view().pid !== first, 'a new helper');
  assert.deepEqual(
    changes.map((c) => c.state),
    ['down', 'ready'],
  );
  assert.equal(sup.view().restarts, 1);
  assert.equal(sup.view().lastExit?.signal, 'SIGKILL');
  await until(() => sup.view().armed.includes('g'), 'the re-arm to be acknowledged');
  await until(() => existsSync(marker), 'the new helper to fence at the old deadline');
});

test('while the helper is down the node may not acquire, and a stop ends the supervision without a restart', async (t) => {
  const marker = join(tempDir(t, 'halo-supervisor-'), 'fenced');
  const { sup, guard, changes, acquirable } = supervisor(t, marker);
  await sup.start();
  const first = sup.view().pid!;
  process.kill(first, 'SIGKILL');
  await until(() => changes.length >= 2, 'the restart');
  assert.deepEqual(acquirable, [false, true]);
  assert.equal(guard.state, 'ready');
  await sup.stop();
  await sleep(300);
  assert.deepEqual(
    changes.map((c) => c.state),
    ['down', 'ready'],
    'no restart after a planned stop',
  );
});
