import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { etcdTiming } from '../../../src/coordination/etcd/etcd-timing.js';
import { TIMING_PROFILES } from '../../../src/coordination/timing.js';

describe('etcdTiming()', () => {
  test("with etcd's default 1 s election timeout the default profile's TTL is raised to 4 s, so the demote point outlasts an election", () => {
    const t = etcdTiming(TIMING_PROFILES.default);
    assert.equal(t.ttlSec, 4);
    assert.equal(t.renewMs, 800);
    // A follower stands after at most two election timeouts; the owner must still hold its group then.
    assert.ok(t.math.demoteAtMs >= t.renewMs + 2 * 1000, `demote point ${t.math.demoteAtMs}ms`);
  });

  test('a shorter etcd election timeout allows a shorter TTL', () => {
    assert.equal(etcdTiming(TIMING_PROFILES.default, 500).ttlSec, 3);
    assert.equal(etcdTiming(TIMING_PROFILES.fast, 250).ttlSec, 2);
  });

  test('a lease already longer than an election needs keeps its own TTL, rounded up to whole seconds', () => {
    assert.equal(etcdTiming(TIMING_PROFILES.relaxed).ttlSec, 6);
    assert.equal(etcdTiming({ ...TIMING_PROFILES.relaxed, leaseMs: 9500 }).ttlSec, 10);
  });

  test('a slow etcd election (5 s) gets a TTL long enough for it', () => {
    const t = etcdTiming(TIMING_PROFILES.default, 5000);
    assert.ok(t.math.demoteAtMs >= t.renewMs + 10_000);
    assert.ok(etcdTiming(TIMING_PROFILES.default, 5000).ttlSec < 20);
  });
});
