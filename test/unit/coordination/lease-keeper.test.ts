import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { etcdTiming } from '../../../src/coordination/etcd/etcd-timing.js';
import { LeaseKeeper, type LeaseKeeperEvent } from '../../../src/coordination/etcd/lease-keeper.js';
import { TIMING_PROFILES } from '../../../src/coordination/timing.js';
import { silentLogger } from '../../../src/log.js';
import { FakeTimers } from '../../support/fake-timers.js';

/**
 * The keeper's schedule against a scripted etcd: keepalives leave every `keepaliveMs` whether
 * or not the previous one was answered, and an answer counts from its own send time. This is
 * what carries an owner through a long etcd leader election (etcd-timing.ts).
 */

interface Sent {
  at: number;
  answer: (ttlSec: number) => void;
}

function scriptedEtcd(timers: FakeTimers) {
  const sent: Sent[] = [];
  let mode: 'answer' | 'hold' = 'answer';
  let grants = 0;
  const lease = {
    on: () => undefined,
    grant: () => Promise.resolve(String(++grants)),
    release: () => undefined,
    revoke: () => Promise.resolve(),
    keepaliveOnce: () =>
      new Promise<{ TTL: string }>((resolve) => {
        const answer = (ttlSec: number) => resolve({ TTL: String(ttlSec) });
        sent.push({ at: timers.now(), answer });
        if (mode === 'answer') answer(4);
      }),
  };
  const client = { lease: () => lease } as unknown as Etcd3;
  return {
    client,
    sent,
    get grants() {
      return grants;
    },
    /** etcd stops answering (its leader died): members hold what they get. */
    hold: () => {
      mode = 'hold';
    },
    /** A new leader: every keepalive still held is answered now. */
    elected: (ttlSec = 4) => {
      mode = 'answer';
      for (const s of sent) s.answer(ttlSec);
    },
  };
}

/** A keeper on a scripted etcd, started, its lease granted at time 0. */
function startedKeeper() {
  const timers = new FakeTimers();
  const etcd = scriptedEtcd(timers);
  const timing = etcdTiming(TIMING_PROFILES.default);
  const events: LeaseKeeperEvent[] = [];
  const k = new LeaseKeeper({
    client: etcd.client,
    timing,
    clock: timers,
    log: silentLogger,
    onEvent: (e) => events.push(e),
  });
  k.start();
  return { timers, etcd, k, timing, events };
}

describe('LeaseKeeper', () => {
  test('keepalives leave every keepalive period even while none is answered', async () => {
    const { timers, etcd, k, timing } = startedKeeper();
    await timers.advance(1000);
    etcd.hold();
    const before = etcd.sent.length;
    await timers.advance(2000);
    // Not one keepalive per call timeout (TTL/5) plus a pause, but one per period.
    assert.equal(etcd.sent.length - before, 2000 / timing.keepaliveMs);
    assert.equal(timing.keepaliveMs, 250);
    await k.stop(false);
  });

  test('an election of three election timeouts right after an answered keepalive leaves the owner its lease', async () => {
    const { timers, etcd, k, timing } = startedKeeper();
    await timers.advance(1000);
    // The leader dies just after answering the keepalive sent at 1000.
    const lastAnswered = etcd.sent.at(-1)?.at ?? 0;
    assert.equal(lastAnswered, 1000);
    etcd.hold();
    const demoteAt = lastAnswered + timing.math.demoteAtMs;
    // etcd's default election timeout is 1 s; the new leader is there 3 s after the crash.
    await timers.advance(3000);
    const held = k.current();
    assert.ok(held, 'the lease is still valid locally during the election');
    assert.ok(
      timers.now() < demoteAt,
      `election ended at ${timers.now()}, before the demote point ${demoteAt}`,
    );
    etcd.elected();
    await timers.advance(0);
    // The answer counts from the last keepalive sent before the election ended (at 4000).
    assert.equal(k.current()?.validUntil, 4000 + timing.math.validityMs);
    await k.stop(false);
  });

  test('an older keepalive answered last never moves the deadline back', async () => {
    const { timers, etcd, k, timing } = startedKeeper();
    await timers.advance(10);
    etcd.hold();
    await timers.advance(500);
    const [older, newer] = etcd.sent;
    assert.ok(older && newer);
    newer.answer(4);
    await timers.advance(0);
    assert.equal(k.current()?.validUntil, newer.at + timing.math.validityMs);
    older.answer(4);
    await timers.advance(0);
    assert.equal(k.current()?.validUntil, newer.at + timing.math.validityMs);
    await k.stop(false);
  });

  test('an answer with TTL 0 (lease revoked or expired) reports the loss and grants a new lease', async () => {
    const { timers, etcd, k, events } = startedKeeper();
    await timers.advance(10);
    etcd.hold();
    await timers.advance(250);
    etcd.sent.at(-1)?.answer(0);
    await timers.advance(0);
    assert.deepEqual(
      events.filter((e) => e.type !== 'renewed').map((e) => e.type),
      ['granted', 'lost', 'granted'],
    );
    assert.equal(etcd.grants, 2);
    await k.stop(false);
  });

  test('an unanswered keepalive gives up after the call timeout: at most a handful are in flight', async () => {
    const { timers, etcd, k, timing } = startedKeeper();
    await timers.advance(10);
    etcd.hold();
    await timers.advance(5000);
    // Every held keepalive older than the call timeout has been given up (its timer is gone).
    const live = timers.pending;
    assert.ok(live <= Math.ceil(timing.callTimeoutMs / timing.keepaliveMs) + 2, `${live} timers pending`);
    await k.stop(false);
  });
});
