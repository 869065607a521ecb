import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReplayGuard } from '../../../src/coordination/transport/replay-guard.js';

describe('replay guard', () => {
  it('accepts each sequence number once, also out of order inside the window', () => {
    const g = new ReplayGuard({ windowSize: 64 });
    assert.equal(g.accept('n1', 'b1', 5), true);
    assert.equal(g.accept('n1', 'b1', 3), true);
    assert.equal(g.accept('n1', 'b1', 4), true);
    assert.equal(g.accept('n1', 'b1', 5), false);
    assert.equal(g.accept('n1', 'b1', 3), false);
    assert.equal(g.accept('n1', 'b1', 6), true);
  });

  it('rejects numbers that fell out of the window', () => {
    const g = new ReplayGuard({ windowSize: 64 });
    assert.equal(g.accept('n1', 'b1', 1), true);
    assert.equal(g.accept('n1', 'b1', 200), true);
    assert.equal(g.accept('n1', 'b1', 100), false);
    assert.equal(g.accept('n1', 'b1', 136), false);
    assert.equal(g.accept('n1', 'b1', 137), true);
  });

  it('reuses window slots correctly after the window slides', () => {
    const g = new ReplayGuard({ windowSize: 32 });
    for (let s = 1; s <= 100; s++) assert.equal(g.accept('n1', 'b', s), true);
    for (let s = 69; s <= 100; s++) assert.equal(g.accept('n1', 'b', s), false);
    assert.equal(g.accept('n1', 'b', 101), true);
  });

  it('accepts a restarted sender (new bootId) starting again at 1', () => {
    const g = new ReplayGuard();
    assert.equal(g.accept('n1', 'old', 500), true);
    assert.equal(g.accept('n1', 'new', 1), true);
    assert.equal(g.accept('n1', 'new', 1), false);
  });

  it('keeps senders apart', () => {
    const g = new ReplayGuard();
    assert.equal(g.accept('n1', 'b', 1), true);
    assert.equal(g.accept('n2', 'b', 1), true);
  });

  it('keeps memory bounded by evicting the least recently used bootIds and senders', () => {
    const g = new ReplayGuard({ maxBootIdsPerSender: 2, maxSenders: 3 });
    for (let i = 0; i < 50; i++) g.accept('n1', `boot-${i}`, 1);
    assert.equal(g.size(), 2);
    for (let i = 0; i < 10; i++) g.accept(`s${i}`, 'b', 1);
    assert.ok(g.size() <= 3 * 2);
  });
});
