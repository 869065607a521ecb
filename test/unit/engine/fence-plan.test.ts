import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type FenceState,
  nextStep,
  onAcquired,
  onAttempt,
  retryDelay,
} from '../../../src/engine/fencing/fence-plan.js';

const policy = { delayMs: { n2: 5000 }, randomDelayMs: 2000, retryIntervalMs: 1000 };
const prev = { node: 'n2', term: '7' };

function acquire(over: Partial<Parameters<typeof onAcquired>[0]> = {}, now = 100): FenceState {
  return onAcquired(
    { self: 'n1', term: '8', previous: prev, handover: null, random: 0.5, ...over },
    policy,
    now,
  );
}

describe('fence plan', () => {
  test('nothing to fence without a previous owner, after our own lease, or after a clean handover', () => {
    assert.equal(acquire({ previous: null }).phase, 'none');
    assert.equal(acquire({ previous: { node: 'n1', term: '7' } }).phase, 'none');
    assert.equal(acquire({ handover: { node: 'n2', term: '7' } }).phase, 'none');
  });

  test('a handover record of another term or node does not spare the fence', () => {
    assert.equal(acquire({ handover: { node: 'n2', term: '6' } }).phase, 'waiting');
    assert.equal(acquire({ handover: { node: 'n3', term: '7' } }).phase, 'waiting');
  });

  test('the first attempt waits the static delay of the target plus the random part', () => {
    const st = acquire({ random: 0.5 }, 100);
    assert.equal(st.phase, 'waiting');
    assert.equal((st as { notBefore: number }).notBefore, 100 + 5000 + 1000);
    // Another target has no static delay: only the random part.
    const other = acquire({ previous: { node: 'n3', term: '7' }, random: 0 }, 100);
    assert.equal((other as { notBefore: number }).notBefore, 100);
  });

  test('no start before the delay is over; then one fence attempt, then start once confirmed', () => {
    let st = acquire({ random: 0 }, 0);
    let r = nextStep(st, null, 4999);
    assert.deepEqual(r.step, { kind: 'wait', untilMs: 5000 });
    r = nextStep(r.state, null, 5000);
    assert.deepEqual(r.step, { kind: 'fence', target: 'n2', attempt: 1 });
    st = r.state;
    assert.equal(st.phase, 'fencing');
    // While the attempt runs nothing else happens.
    assert.equal(nextStep(st, null, 5001).step.kind, 'wait');
    st = onAttempt(st, { ok: true }, policy, 6000);
    assert.equal(st.phase, 'fenced');
    assert.deepEqual(nextStep(st, null, 6000).step, { kind: 'start' });
  });

  test('a handover record that arrives during the delay cancels the fence', () => {
    const st = acquire({ random: 0 }, 0);
    const r = nextStep(st, { node: 'n2', term: '7' }, 10);
    assert.deepEqual(r.step, { kind: 'start' });
    assert.equal(r.state.phase, 'none');
  });

  test('a failed attempt keeps the group down and retries with doubling back-off, capped at 10x', () => {
    let st = acquire({ random: 0 }, 0);
    let now = 5000;
    const waits: number[] = [];
    for (let i = 1; i <= 6; i++) {
      const r = nextStep(st, null, now);
      assert.deepEqual(r.step, { kind: 'fence', target: 'n2', attempt: i });
      st = onAttempt(r.state, { ok: false, error: 'boom' }, policy, now);
      assert.equal(st.phase, 'waiting');
      const w = nextStep(st, null, now);
      assert.equal(w.step.kind, 'wait');
      waits.push((w.step as { untilMs: number }).untilMs - now);
      now = (w.step as { untilMs: number }).untilMs;
    }
    assert.deepEqual(waits, [1000, 2000, 4000, 8000, 10000, 10000]);
    assert.equal(retryDelay(1000, 30), 10000);
  });

  test('after a failed attempt a late handover record does not cancel the retry', () => {
    let st = acquire({ random: 0 }, 0);
    st = nextStep(st, null, 5000).state;
    st = onAttempt(st, { ok: false, error: 'timeout' }, policy, 5000);
    // Once fencing started the outcome of the power-off is unknown: only a confirmation will do.
    assert.equal(nextStep(st, { node: 'n2', term: '7' }, 7000).step.kind, 'fence');
  });
});
