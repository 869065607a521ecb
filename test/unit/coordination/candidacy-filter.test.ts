import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CandidacyFilter } from '../../../src/coordination/embedded/candidacy-filter.js';

describe('candidacy filter (what the proposer gets while the deadman helper may be missing)', () => {
  it('passes the engine’s wish through while a helper is ready, and withdraws it while none is', () => {
    const f = new CandidacyFilter();
    f.want('g', 1);
    assert.equal(f.effective('g', 1, { now: 0, canAcquire: true, held: false }), 1);
    assert.equal(f.effective('g', 1, { now: 0, canAcquire: false, held: false }), null);
  });

  it('keeps the candidacy of a lease held here even without a helper (the guard demotes it)', () => {
    const f = new CandidacyFilter();
    assert.equal(f.effective('g', 0, { now: 0, canAcquire: false, held: true }), 0);
  });

  it('holds a dropped group back until its time, then reports it due once', () => {
    const f = new CandidacyFilter();
    f.want('g', 0);
    f.holdBack('g', 100);
    assert.equal(f.nextWakeAt(), 100);
    assert.equal(f.effective('g', 0, { now: 50, canAcquire: true, held: false }), null);
    assert.deepEqual(f.dueAt(99), []);
    assert.deepEqual(f.dueAt(100), ['g']);
    assert.deepEqual(f.dueAt(200), []);
    assert.equal(f.nextWakeAt(), Number.POSITIVE_INFINITY);
    assert.equal(f.effective('g', 0, { now: 150, canAcquire: true, held: false }), 0);
    assert.equal(f.wantedRank('g'), 0);
    assert.deepEqual(f.wishes(), [['g', 0]]);
  });
});
