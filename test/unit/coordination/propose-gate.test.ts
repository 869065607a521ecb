import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProposeGate } from '../../../src/coordination/embedded/propose-gate.js';
import { FakeTimers } from '../../support/fake-timers.js';

const M = 520;

describe('propose gate: restart quarantine and clock anomalies', () => {
  it('a candidacy set during the restart quarantine waits and applies once it ends', async () => {
    const clock = new FakeTimers();
    const gate = new ProposeGate(M);
    gate.boot(clock.now());
    assert.equal(gate.offer('g', 0, clock.now()), false);
    assert.deepEqual(gate.due(clock.now()), []);
    await clock.advance(M - 1);
    assert.deepEqual(gate.due(clock.now()), []);
    await clock.advance(1);
    assert.deepEqual(gate.due(clock.now()), [['g', 0]]);
    assert.deepEqual(gate.due(clock.now()), [], 'each deferred candidacy applies once');
    assert.equal(gate.offer('g', 1, clock.now()), true, 'after the quarantine changes apply at once');
  });

  it('the latest candidacy set during the quarantine is the one that applies', () => {
    const gate = new ProposeGate(M);
    gate.boot(0);
    gate.offer('g', 0, 1);
    gate.offer('g', null, 2);
    assert.deepEqual(gate.due(M), [['g', null]]);
  });

  it('a clock anomaly demotes every held lease, quarantines again and keeps the candidacies for later', async () => {
    const clock = new FakeTimers();
    const gate = new ProposeGate(M);
    gate.boot(clock.now());
    await clock.advance(10_000);
    const plan = gate.onAnomaly(
      { kind: 'suspend', gapMs: 4000 },
      [
        { group: 'a', rank: 0, heldTerm: 77 },
        { group: 'b', rank: 1, heldTerm: null },
      ],
      clock.now(),
    );
    assert.deepEqual(plan.demote, [{ group: 'a', term: 77, reason: 'clock anomaly: suspend' }]);
    assert.equal(gate.quarantinedUntil, clock.now() + M);
    assert.equal(gate.offer('b', 2, clock.now()), false, 'no proposing during the new quarantine');
    await clock.advance(M);
    assert.deepEqual(gate.due(clock.now()), [
      ['a', 0],
      ['b', 2],
    ]);
  });
});
