import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeadmanGuard } from '../../../src/coordination/shell/deadman-guard.js';
import { FakeTimers } from '../../support/fake-timers.js';

// fast timing: S = 150 ms, gh = 37.5 ms, so the agent's demote point is 112.5 ms before the
// helper's deadline.
const SLACK = 112.5;

function readyGuard() {
  const clock = new FakeTimers();
  const guard = new DeadmanGuard({ slackMs: SLACK, enabled: true });
  guard.ready();
  return { clock, guard };
}

describe('DeadmanGuard', () => {
  it('lets the node acquire only while a helper is ready', () => {
    const guard = new DeadmanGuard({ slackMs: SLACK, enabled: true });
    assert.equal(guard.state, 'starting');
    assert.equal(guard.canAcquire(), false);
    guard.ready();
    assert.equal(guard.canAcquire(), true);
    guard.down();
    assert.equal(guard.canAcquire(), false);
    guard.down('starting');
    assert.equal(guard.canAcquire(), false);
  });

  it('demotes nothing while the helper acknowledges every renewal, and keeps the latest acknowledged deadline', async () => {
    const { clock, guard } = readyGuard();
    let last = 0;
    for (let i = 0; i < 20; i++) {
      last = clock.now() + 450;
      guard.requested('g', last);
      guard.acked('g', last);
      assert.deepEqual(guard.due(clock.now()), []);
      await clock.advance(75);
    }
    assert.deepEqual(guard.coverage(), { covered: ['g'], uncovered: [] });
    guard.down();
    assert.equal(guard.nextDueAt(clock.now()), last - SLACK);
  });

  it('demotes a held group at the demote point of the last deadline a helper acknowledged once the helper died', async () => {
    const { clock, guard } = readyGuard();
    guard.requested('g', 450);
    guard.acked('g', 450);
    guard.down();
    // Renewals go on, but no helper acknowledges them: the bound stays at 450 − slack.
    await clock.advance(75);
    guard.requested('g', clock.now() + 450);
    assert.deepEqual(guard.due(clock.now()), []);
    assert.equal(guard.nextDueAt(clock.now()), 450 - SLACK);
    assert.deepEqual(guard.coverage(), { covered: [], uncovered: ['g'] });
    await clock.advance(450 - SLACK - clock.now() - 1);
    assert.deepEqual(guard.due(clock.now()), []);
    await clock.advance(1);
    assert.deepEqual(guard.due(clock.now()), ['g']);
    // Reported once: the group is no longer guarded after its demote.
    assert.deepEqual(guard.due(clock.now() + 1000), []);
  });

  it('costs nothing when a restarted helper acknowledges the latest deadline in time', async () => {
    const { clock, guard } = readyGuard();
    guard.requested('g', 450);
    guard.acked('g', 450);
    guard.down();
    await clock.advance(150);
    guard.requested('g', 600);
    guard.ready();
    // The new helper holds nothing until it acknowledges: the old bound still stands.
    assert.equal(guard.nextDueAt(clock.now()), 450 - SLACK);
    guard.acked('g', 600);
    await clock.advance(450 - SLACK - 150);
    assert.deepEqual(guard.due(clock.now()), []);
    assert.equal(guard.nextDueAt(clock.now()), null, 'the ready helper covers it');
    assert.deepEqual(guard.coverage(), { covered: ['g'], uncovered: [] });
    // Should it die again, the bound is the restarted helper's acknowledged deadline.
    guard.down();
    assert.equal(guard.nextDueAt(clock.now()), 600 - SLACK);
  });

  it('demotes at once a group acquired while no helper is ready, and waits for the first ack while one is', () => {
    const { clock, guard } = readyGuard();
    guard.requested('a', 450);
    assert.deepEqual(guard.due(clock.now()), [], 'a ready helper gets to acknowledge first');
    assert.equal(guard.nextDueAt(clock.now()), null);
    guard.down();
    assert.deepEqual(guard.due(clock.now()), ['a']);
  });

  it('stops guarding a group that was released or demoted', () => {
    const { guard } = readyGuard();
    guard.requested('g', 450);
    guard.acked('g', 450);
    guard.forget('g');
    guard.down();
    assert.deepEqual(guard.due(10_000), []);
    assert.deepEqual(guard.coverage(), { covered: [], uncovered: [] });
  });

  it('ignores an acknowledgement older than the one it holds', () => {
    const { guard } = readyGuard();
    guard.requested('g', 600);
    guard.acked('g', 600);
    guard.acked('g', 450);
    guard.down();
    assert.equal(guard.nextDueAt(0), 600 - SLACK);
  });

  it('guards nothing when the helper is turned off', () => {
    const guard = new DeadmanGuard({ slackMs: SLACK, enabled: false });
    assert.equal(guard.state, 'off');
    assert.equal(guard.canAcquire(), true);
    guard.requested('g', 450);
    guard.down();
    assert.equal(guard.state, 'off');
    assert.deepEqual(guard.due(10_000), []);
  });
});
