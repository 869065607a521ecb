import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { etcdTiming } from '../../../src/coordination/etcd/etcd-timing.js';
import { TIMING_PROFILES } from '../../../src/coordination/timing.js';

describe('etcdTiming()', () => {
  test("with etcd's default 1 s election timeout the default profile's TTL is raised to 4 s, so the demote point outlasts an election", () => {
    const t = etcdTiming(TIMING_PROFILES.default);
    assert.equal(t.ttlSec, 4);
    assert.equal(t.renewMs, 800);
    assert.equal(t.keepaliveMs, 250);
    // An election may take three election timeouts (a split or ignored vote costs a round);
    // the owner's last answered keepalive may be one period older than the crash.
    assert.ok(t.math.demoteAtMs >= t.keepaliveMs + 3 * 1000, `demote point ${t.math.demoteAtMs}ms`);
  });

  test('a shorter etcd election timeout allows a shorter TTL', () => {
    assert.equal(etcdTiming(TIMING_PROFILES.default, 500).ttlSec, 3);
    assert.equal(etcdTiming(TIMING_PROFILES.fast, 250).ttlSec, 2);
  });

  test('a lease already longer than an election needs keeps its own TTL, rounded up to whole seconds', () => {
    assert.equal(etcdTiming(TIMING_PROFILES.relaxed).ttlSec, 6);
    assert.equal(etcdTiming({ ...TIMING_PROFILES.relaxed, leaseMs: 9500 }).ttlSec, 10);
  });

  test('keepalives go out every quarter of the election timeout, never less often than TTL/5', () => {
    assert.equal(etcdTiming(TIMING_PROFILES.default, 500).keepaliveMs, 125);
    assert.equal(etcdTiming(TIMING_PROFILES.default, 2000).keepaliveMs, 500);
    const relaxed = etcdTiming(TIMING_PROFILES.relaxed, 5000);
    assert.equal(relaxed.keepaliveMs, 1250);
    assert.ok(relaxed.keepaliveMs <= relaxed.renewMs);
  });

  test('a slow etcd election (5 s) gets a TTL long enough for it', () => {
    const t = etcdTiming(TIMING_PROFILES.default, 5000);
    assert.ok(t.math.demoteAtMs >= t.keepaliveMs + 15_000);
    assert.ok(etcdTiming(TIMING_PROFILES.default, 5000).ttlSec < 20);
  });
});
