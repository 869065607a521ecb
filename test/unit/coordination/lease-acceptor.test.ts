import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LeaseAcceptor } from '../../../src/coordination/lease/acceptor.js';
import type { LeaseMessage } from '../../../src/coordination/lease/messages.js';

const M = 510.5;
const D = 500;

function booted(now = 0): LeaseAcceptor {
  const acc = new LeaseAcceptor({ quarantineMs: M });
  acc.boot(now);
  return acc;
}

const prepare = (b: number, g = 'g'): LeaseMessage => ({ type: 'prepare', g, b });
const propose = (b: number, owner = 'n1', term = b, g = 'g', durMs = D): LeaseMessage => ({
  type: 'propose',
  g,
  b,
  owner,
  term,
  durMs,
});

describe('lease acceptor', () => {
  it('answers nothing before boot and during the restart quarantine, then answers', () => {
    const fresh = new LeaseAcceptor({ quarantineMs: M });
    assert.deepEqual(fresh.handle('n1', prepare(5), 1e9), []);
    const acc = booted(1000);
    assert.equal(acc.isQuarantined(1000 + M - 1), true);
    assert.deepEqual(acc.handle('n1', prepare(5), 1000 + M - 1), []);
    assert.deepEqual(acc.handle('n1', propose(5), 1000 + M - 1), []);
    assert.deepEqual(acc.handle('n1', prepare(6), 1000 + M), [
      { to: 'n1', msg: { type: 'promise', g: 'g', b: 6 } },
    ]);
  });

  it('promises a higher ballot and nacks a lower one with its promised ballot', () => {
    const acc = booted();
    acc.handle('n1', prepare(10), M);
    assert.deepEqual(acc.handle('n2', prepare(7), M), [
      { to: 'n2', msg: { type: 'nack', g: 'g', b: 7, promised: 10 } },
    ]);
    assert.deepEqual(acc.handle('n2', prepare(12), M), [
      { to: 'n2', msg: { type: 'promise', g: 'g', b: 12 } },
    ]);
  });

  it('accepts a propose at or above the promise, nacks one below, and reports the lease to later prepares', () => {
    const acc = booted();
    const t = M + 100;
    acc.handle('n1', prepare(10), t);
    assert.deepEqual(acc.handle('n1', propose(10, 'n1', 10), t), [
      { to: 'n1', msg: { type: 'accepted', g: 'g', b: 10 } },
    ]);
    assert.deepEqual(acc.handle('n3', propose(9, 'n3', 9), t), [
      { to: 'n3', msg: { type: 'nack', g: 'g', b: 9, promised: 10 } },
    ]);
    assert.deepEqual(acc.handle('n2', prepare(20), t + 100), [
      {
        to: 'n2',
        msg: {
          type: 'promise',
          g: 'g',
          b: 20,
          accepted: { b: 10, owner: 'n1', term: 10, remainingMs: D - 100 },
        },
      },
    ]);
  });

  it('expires a lease lazily and pushes EXPIRED to every node once', () => {
    const acc = booted();
    const t = M;
    acc.handle('n1', propose(10), t);
    assert.equal(acc.nextWakeAt(), t + D);
    assert.deepEqual(acc.tick(t + D - 1), []);
    assert.deepEqual(acc.tick(t + D), [{ to: '*', msg: { type: 'expired', g: 'g' } }]);
    assert.deepEqual(acc.tick(t + D + 1), []);
    assert.equal(acc.nextWakeAt(), null);
    // A prepare arriving after expiry (without a tick in between) also sees no lease.
    const lazy = booted();
    lazy.handle('n1', propose(10), t);
    assert.deepEqual(lazy.handle('n2', prepare(11), t + D + 5), [
      { to: '*', msg: { type: 'expired', g: 'g' } },
      { to: 'n2', msg: { type: 'promise', g: 'g', b: 11 } },
    ]);
  });

  it('clears a lease on release only when owner and term both match', () => {
    const acc = booted();
    const t = M;
    acc.handle('n1', propose(10, 'n1', 7), t);
    assert.deepEqual(acc.handle('n2', { type: 'release', g: 'g', owner: 'n2', term: 7 }, t), []);
    assert.deepEqual(acc.handle('n1', { type: 'release', g: 'g', owner: 'n1', term: 6 }, t), []);
    assert.equal(acc.view('g', t).accepted?.owner, 'n1');
    assert.deepEqual(acc.handle('n1', { type: 'release', g: 'g', owner: 'n1', term: 7 }, t), [
      { to: '*', msg: { type: 'expired', g: 'g' } },
    ]);
    assert.equal(acc.view('g', t).accepted, null);
  });

  it('does not let a duplicate of the released propose resurrect the lease', () => {
    const acc = booted();
    const t = M;
    acc.handle('n1', propose(10), t);
    acc.handle('n1', { type: 'release', g: 'g', owner: 'n1', term: 10 }, t + 1);
    assert.deepEqual(acc.handle('n1', propose(10), t + 2), [
      { to: 'n1', msg: { type: 'nack', g: 'g', b: 10, promised: 10 } },
    ]);
    // The next owner's higher ballot is accepted as usual.
    assert.equal(acc.handle('n2', propose(11, 'n2'), t + 3)[0]?.msg.type, 'accepted');
  });

  it('keeps groups independent', () => {
    const acc = booted();
    const t = M;
    acc.handle('n1', propose(10, 'n1', 10, 'a'), t);
    assert.deepEqual(acc.handle('n2', prepare(5, 'b'), t), [
      { to: 'n2', msg: { type: 'promise', g: 'b', b: 5 } },
    ]);
    assert.equal(acc.view('a', t).accepted?.owner, 'n1');
    assert.equal(acc.view('b', t).accepted, null);
    assert.deepEqual(acc.groups().sort(), ['a', 'b']);
  });

  it('refuses a lease longer than its quarantine covers', () => {
    const acc = booted();
    assert.equal(acc.handle('n1', propose(10, 'n1', 10, 'g', D), M)[0]?.msg.type, 'accepted');
    assert.equal(acc.handle('n1', propose(11, 'n1', 11, 'g', D + 1), M)[0]?.msg.type, 'nack');
  });

  it('forgets promises and leases when booted again', () => {
    const acc = booted();
    acc.handle('n1', propose(10), M);
    acc.boot(M + 1);
    assert.equal(acc.isQuarantined(M + 2), true);
    assert.deepEqual(acc.view('g', 2 * M + 2), { promised: 0, accepted: null });
  });
});
