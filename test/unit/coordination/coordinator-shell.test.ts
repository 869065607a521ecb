import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoordinatorShell } from '../../../src/coordination/shell/coordinator-shell.js';
import { TaskTracker } from '../../../src/coordination/shell/task-tracker.js';
import type { CoordinatorEvent } from '../../../src/coordination/types.js';
import { silentLogger } from '../../../src/log.js';
import { FakeTimers } from '../../support/fake-timers.js';

function shell(clock = new FakeTimers()) {
  return new CoordinatorShell({
    log: silentLogger,
    clock,
    view: () => ({
      node: 'n1',
      quorum: true,
      quarantined: false,
      members: [],
      leases: [],
      droppedMessages: {},
    }),
  });
}

describe('coordinator shell', () => {
  it('walks the lifecycle forward only', () => {
    const s = shell();
    assert.equal(s.lifecycle, 'idle');
    s.enter('starting');
    s.enter('running');
    assert.equal(s.running, true);
    assert.throws(() => s.enter('starting'), /cannot go from running to starting/);
  });

  it('publishes each owner change once and renders membership events with the current view', () => {
    const s = shell();
    const seen: CoordinatorEvent[] = [];
    s.on((e) => seen.push(e));
    s.emit({ type: 'owner', group: 'g', owner: 'n1', term: '3' });
    s.setOwner('g', 'n1', '3');
    s.emit({ type: 'membership' });
    assert.deepEqual(
      seen.map((e) => e.type),
      ['owner', 'membership'],
    );
    assert.equal(seen[1]?.type === 'membership' && seen[1].view.node, 'n1');
    assert.deepEqual(s.owner('g'), { owner: 'n1', term: '3' });
  });

  it('a failing listener does not keep the others from the event', () => {
    const s = shell();
    let got = 0;
    s.on(() => {
      throw new Error('boom');
    });
    s.on(() => got++);
    s.emit({ type: 'demote', group: 'g', term: '1', reason: 'test' });
    assert.equal(got, 1);
  });

  it('timers run on the injected clock and none fires after stop', async () => {
    const clock = new FakeTimers();
    const s = shell(clock);
    s.enter('starting');
    s.enter('running');
    const fired: number[] = [];
    s.after(10, () => fired.push(clock.now()));
    s.after(50, () => fired.push(clock.now()));
    await clock.advance(20);
    await s.quiesce();
    await clock.advance(100);
    assert.deepEqual(fired, [10]);
    assert.equal(s.lifecycle, 'stopping');
    await s.finish();
    assert.equal(s.lifecycle, 'stopped');
  });

  it('stop waits for background work in flight and cancels it through its signal', async () => {
    const clock = new FakeTimers();
    const s = shell(clock);
    s.enter('starting');
    s.enter('running');
    let finished = false;
    let sawAbort = false;
    s.spawn('slow', async (signal) => {
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      sawAbort = signal.aborted;
      await new Promise((r) => setImmediate(r));
      finished = true;
    });
    await s.quiesce();
    assert.equal(sawAbort, true);
    assert.equal(finished, true, 'quiesce returned only after the task ended');
    let late = false;
    s.spawn('late', async () => {
      late = true;
    });
    assert.equal(late, false, 'no work starts once stopping');
  });

  it('sleep resolves after its time on the fake clock, or at once when stopping', async () => {
    const clock = new FakeTimers();
    const s = shell(clock);
    s.enter('starting');
    let woke = false;
    const sleeping = s.sleep(100).then(() => {
      woke = true;
    });
    await clock.advance(99);
    assert.equal(woke, false);
    await clock.advance(1);
    await sleeping;
    assert.equal(woke, true);
    const long = s.sleep(60_000);
    await s.quiesce();
    await long;
  });
});

describe('task tracker', () => {
  it('reports a failing task instead of leaving an unhandled rejection', async () => {
    const errors: string[] = [];
    const t = new TaskTracker((name, err) => errors.push(`${name}: ${(err as Error).message}`));
    t.run('bad', async () => {
      throw new Error('nope');
    });
    t.run('worse', () => {
      throw new Error('sync');
    });
    await t.drain();
    assert.deepEqual(errors.sort(), ['bad: nope', 'worse: sync']);
    assert.equal(t.size, 0);
  });

  it('drain also waits for tasks started by tasks that were running', async () => {
    const t = new TaskTracker(() => undefined);
    const order: string[] = [];
    t.run('first', async () => {
      await new Promise((r) => setImmediate(r));
      order.push('first');
    });
    await t.drain();
    assert.deepEqual(order, ['first']);
    assert.equal(
      t.run('after', async () => undefined),
      false,
    );
  });
});
