import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expireFailures, markExpiresAt } from '../../../src/engine/failure-expiry.js';
import { groupIntent, parseIntent } from '../../../src/engine/intent.js';
import { type Action, type Snapshot, schedule } from '../../../src/engine/scheduler.js';

const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);
const MIN = 60_000;

/** n1 marked at T0, n2 at T0 + 1 min, n3 by a peer that records no time. */
const intent = parseIntent({
  'group/web/failed/n1': { value: true, version: 1 },
  'group/web/failedAt/n1': { value: T0, version: 1 },
  'group/web/failedReason/n1': { value: 'start failed: app: exit 1', version: 1 },
  'group/web/failed/n2': { value: true, version: 2 },
  'group/web/failedAt/n2': { value: T0 + MIN, version: 2 },
  'group/web/failed/n3': { value: true, version: 3 },
  'group/db/failed/n1': { value: true, version: 4 },
  'group/db/failedAt/n1': { value: T0, version: 4 },
});

const groups = [
  { name: 'web', failureTimeoutMs: 5 * MIN },
  { name: 'db' }, // no failureTimeout: marks last until cleared
];

describe('expireFailures()', () => {
  test('a mark counts until failureTimeout after it was written, then expires', () => {
    const before = expireFailures(intent, groups, T0 + 5 * MIN - 1);
    assert.deepEqual(groupIntent(before.intent, 'web').failed, ['n1', 'n2', 'n3']);
    assert.deepEqual(groupIntent(before.intent, 'web').expired, []);
    assert.equal(before.nextExpiryAt, T0 + 5 * MIN, 'the engine wakes when n1 expires');

    const at = expireFailures(intent, groups, T0 + 5 * MIN);
    assert.deepEqual(groupIntent(at.intent, 'web').failed, ['n2', 'n3']);
    assert.deepEqual(groupIntent(at.intent, 'web').expired, ['n1']);
    assert.equal(at.nextExpiryAt, T0 + 6 * MIN, 'then when n2 expires');

    const later = expireFailures(intent, groups, T0 + 6 * MIN);
    assert.deepEqual(groupIntent(later.intent, 'web').failed, ['n3'], 'a mark without a time stays');
    assert.deepEqual(groupIntent(later.intent, 'web').expired, ['n1', 'n2']);
    assert.equal(later.nextExpiryAt, null);
    assert.equal(
      groupIntent(later.intent, 'web').failedReasons.n1,
      'start failed: app: exit 1',
      'an expired mark keeps its reason for status',
    );
  });

  test('a group without failureTimeout keeps its marks whatever the time', () => {
    const { intent: out } = expireFailures(intent, groups, T0 + 1000 * 24 * 60 * MIN);
    assert.deepEqual(groupIntent(out, 'db').failed, ['n1']);
    assert.deepEqual(expireFailures(intent, [{ name: 'db', failureTimeoutMs: 0 }], T0 + MIN).intent, {
      ...intent,
      groups: { ...intent.groups },
    });
  });

  test('every node decides the same from the replicated mark time, whichever node evaluates', () => {
    // Two nodes evaluating the same intent at the same instant agree; the input is all they read.
    const a = expireFailures(intent, groups, T0 + 5 * MIN + 10);
    const b = expireFailures(structuredClone(intent), groups, T0 + 5 * MIN + 10);
    assert.deepEqual(a, b);
  });

  test('an expired mark makes the node a candidate again; the lease still decides who runs', () => {
    const config = {
      name: 'web',
      nodes: ['n1', 'n2'],
      autoFailback: false,
      fencing: 'lease' as const,
      resources: [],
      monitors: [],
      failureTimeoutMs: 5 * MIN,
    };
    const snapshot = (now: number, owner: string | null): Snapshot => ({
      self: 'n1',
      groups: [config],
      intent: expireFailures(intent, [config], now).intent,
      members: [
        { name: 'n1', up: true, eligible: true },
        { name: 'n2', up: true, eligible: true },
      ],
      owners: { web: owner },
      phases: { web: 'stopped' },
      requests: {},
    });
    const candidacy = (actions: Action[]) => actions.find((a) => a.type === 'candidacy');
    assert.deepEqual(candidacy(schedule(snapshot(T0 + MIN, null))), {
      type: 'candidacy',
      group: 'web',
      rank: null,
    });
    assert.deepEqual(candidacy(schedule(snapshot(T0 + 5 * MIN, null))), {
      type: 'candidacy',
      group: 'web',
      rank: 0,
    });
    // Another node holds the lease: n1 only offers itself; it starts nothing without the lease.
    const held = schedule(snapshot(T0 + 5 * MIN, 'n2'));
    assert.ok(!held.some((a) => a.type === 'start-group'));
  });

  test('markExpiresAt: the mark time plus the timeout, or null', () => {
    assert.equal(markExpiresAt({ n1: T0 }, 'n1', MIN), T0 + MIN);
    assert.equal(markExpiresAt({ n1: T0 }, 'n1', undefined), null);
    assert.equal(markExpiresAt({}, 'n1', MIN), null);
  });
});
