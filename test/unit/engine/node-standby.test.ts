import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GroupConfig } from '../../../src/config/model.js';
import type { ClusterIntent } from '../../../src/coordination/types.js';
import { intentKeys, parseIntent } from '../../../src/engine/intent.js';
import {
  type Action,
  drainTurn,
  type LocalPhase,
  type LocalRequest,
  type Snapshot,
  schedule,
} from '../../../src/engine/scheduler.js';

/**
 * `halo node standby` as the scheduler sees it: the `node/<n>/standby` intent key takes the
 * node out of every group's candidates, and the groups it holds leave one at a time.
 */

const toIntent = (raw: Record<string, unknown>): ClusterIntent =>
  Object.fromEntries(Object.entries(raw).map(([k, value]) => [k, { value, version: 1 }]));

function group(name: string, opts: { nodes?: string[]; autoFailback?: boolean } = {}): GroupConfig {
  return {
    name,
    nodes: opts.nodes ?? ['n1', 'n2', 'n3'],
    autoFailback: opts.autoFailback ?? false,
    fencing: 'lease',
    resources: [{ name: 'app', type: 'process', after: [], params: {} }],
    monitors: [],
  };
}

interface Given {
  self?: string;
  groups?: GroupConfig[];
  intent?: Record<string, unknown>;
  down?: string[];
  owners?: Record<string, string | null>;
  phases?: Record<string, LocalPhase>;
  requests?: Record<string, LocalRequest[]>;
}

function snapshot(g: Given): Snapshot {
  return {
    self: g.self ?? 'n1',
    groups: g.groups ?? [group('web')],
    intent: parseIntent(toIntent(g.intent ?? {})),
    members: ['n1', 'n2', 'n3'].map((name) => ({ name, up: !(g.down ?? []).includes(name), eligible: true })),
    owners: g.owners ?? {},
    phases: g.phases ?? {},
    requests: g.requests ?? {},
  };
}

const run = (g: Given) => schedule(snapshot(g));
const standby = (node: string, on = true) => ({ [intentKeys.standby(node)]: on });
const cand = (rank: number | null, g = 'web'): Action => ({ type: 'candidacy', group: g, rank });
const reason = (node = 'n1') => `node ${node} is in standby`;
const stopRelease = (g = 'web', node = 'n1'): Action => ({
  type: 'stop-group',
  group: g,
  then: 'release',
  reason: reason(node),
});

describe('node standby intent', () => {
  test('node/<n>/standby true puts the node in standby; false or another type does not', () => {
    const parsed = parseIntent(
      toIntent({
        'node/n2/standby': true,
        'node/n1/standby': true,
        'node/n3/standby': false,
        'node/n4/standby': 'yes',
        'node/n5/other': true,
      }),
    );
    assert.deepEqual(parsed.standbyNodes, ['n1', 'n2']);
    assert.deepEqual(parsed.groups, {}, 'node keys are not group keys');
  });

  test('absent keys mean no node is in standby', () => {
    assert.deepEqual(parseIntent({}).standbyNodes, []);
  });
});

describe('schedule() with a node in standby', () => {
  test('a node in standby is never a candidate', () => {
    assert.deepEqual(run({ intent: standby('n1') }), [cand(null)]);
  });

  test('a node in standby is not a candidate even when nobody else can run the group', () => {
    assert.deepEqual(run({ intent: standby('n1'), down: ['n2', 'n3'] }), [cand(null)]);
  });

  test('the other nodes rank without the node in standby', () => {
    assert.deepEqual(run({ self: 'n2', intent: standby('n1') }), [cand(0)]);
    assert.deepEqual(run({ self: 'n3', intent: standby('n1') }), [cand(1)]);
  });

  test('the owner in standby stops the group and releases the lease (a planned move)', () => {
    const actions = run({ intent: standby('n1'), owners: { web: 'n1' }, phases: { web: 'running' } });
    // It keeps renewing (rank 0) until it has stopped and released, so the move is clean.
    assert.deepEqual(actions, [cand(0), stopRelease()]);
  });

  test('the owner in standby stops the group also when no other node can take it (like Pacemaker)', () => {
    const actions = run({
      intent: standby('n1'),
      down: ['n2', 'n3'],
      owners: { web: 'n1' },
      phases: { web: 'running' },
    });
    assert.deepEqual(actions, [cand(0), stopRelease()]);
  });

  test('a lease granted to a node in standby is released without starting anything', () => {
    const actions = run({ intent: standby('n1'), owners: { web: 'n1' }, phases: { web: 'stopped' } });
    assert.deepEqual(actions, [cand(0), { type: 'release', group: 'web', reason: reason() }]);
  });

  test('a node in standby that lost the lease stops without releasing, as always', () => {
    const actions = run({ intent: standby('n1'), owners: { web: 'n2' }, phases: { web: 'running' } });
    assert.deepEqual(actions, [
      cand(null),
      { type: 'stop-group', group: 'web', then: 'hold', reason: 'lease lost' },
    ]);
  });

  test('a failed stop in standby still waits for the lease to run out (never released)', () => {
    const actions = run({ intent: standby('n1'), owners: { web: 'n1' }, phases: { web: 'failed-stop' } });
    assert.deepEqual(actions, [cand(null)]);
  });

  test('the next candidate takes the group: it starts once it holds the lease', () => {
    assert.deepEqual(run({ self: 'n2', intent: standby('n1'), owners: { web: 'n2' } }), [
      cand(0),
      { type: 'start-group', group: 'web' },
    ]);
  });

  test('a move target in standby is ignored, and the preference is dropped once the group runs', () => {
    assert.deepEqual(run({ self: 'n2', intent: { ...standby('n1'), 'group/web/preferred': 'n1' } }), [
      cand(0),
    ]);
    const actions = run({
      self: 'n2',
      intent: { ...standby('n1'), 'group/web/preferred': 'n1' },
      owners: { web: 'n2' },
      phases: { web: 'running' },
    });
    assert.deepEqual(actions, [cand(0), { type: 'clear-preferred', group: 'web' }]);
  });

  test('autoFailback does not pull a group to a node in standby', () => {
    const actions = run({
      self: 'n2',
      groups: [group('web', { autoFailback: true })],
      intent: standby('n1'),
      owners: { web: 'n2' },
      phases: { web: 'running' },
    });
    assert.deepEqual(actions, [cand(0)]);
  });

  test('another node in standby changes nothing for a group running elsewhere', () => {
    const actions = run({
      self: 'n2',
      intent: standby('n3'),
      owners: { web: 'n2' },
      phases: { web: 'running' },
    });
    assert.deepEqual(actions, [cand(1)]);
  });
});

describe('schedule() after unstandby', () => {
  test('the node is a candidate again', () => {
    assert.deepEqual(run({ intent: standby('n1', false) }), [cand(0)]);
    assert.deepEqual(run({ self: 'n2', intent: standby('n1', false) }), [cand(1)]);
  });

  test('a group that moved away stays where it runs without autoFailback', () => {
    const actions = run({
      self: 'n2',
      intent: standby('n1', false),
      owners: { web: 'n2' },
      phases: { web: 'running' },
    });
    assert.deepEqual(actions, [cand(1)]);
  });

  test('with autoFailback the group goes back to the preferred node', () => {
    const actions = run({
      self: 'n2',
      groups: [group('web', { autoFailback: true })],
      intent: standby('n1', false),
      owners: { web: 'n2' },
      phases: { web: 'running' },
    });
    assert.deepEqual(actions, [
      cand(1),
      { type: 'stop-group', group: 'web', then: 'release', reason: 'failback to n1' },
    ]);
  });
});

describe('draining several groups', () => {
  const groups = [group('a'), group('b'), group('c')];
  const held = { a: 'n1', b: 'n1', c: 'n1' };
  const running: Record<string, LocalPhase> = { a: 'running', b: 'running', c: 'running' };

  test('one group leaves at a time, in reverse config order (the order the agent stops them in)', () => {
    const actions = run({ groups, intent: standby('n1'), owners: held, phases: running });
    assert.deepEqual(actions, [cand(0, 'a'), cand(0, 'b'), cand(0, 'c'), stopRelease('c')]);
  });

  test('the next group leaves only once the previous one is released', () => {
    const stopping = run({
      groups,
      intent: standby('n1'),
      owners: held,
      phases: { ...running, c: 'stopping' },
    });
    assert.deepEqual(stopping, [cand(0, 'a'), cand(0, 'b'), cand(0, 'c')], 'c is still stopping');
    const stoppedNotReleased = run({
      groups,
      intent: standby('n1'),
      owners: held,
      phases: { ...running, c: 'stopped' },
    });
    assert.deepEqual(stoppedNotReleased, [
      cand(0, 'a'),
      cand(0, 'b'),
      cand(0, 'c'),
      { type: 'release', group: 'c', reason: reason() },
    ]);
    const released = run({
      groups,
      intent: standby('n1'),
      owners: { ...held, c: 'n2' },
      phases: { ...running, c: 'stopped' },
    });
    assert.deepEqual(released, [cand(0, 'a'), cand(0, 'b'), stopRelease('b'), cand(null, 'c')]);
  });

  test('a group merely held here (stopped) is released at once, whatever its turn', () => {
    const actions = run({
      groups,
      intent: standby('n1'),
      owners: held,
      phases: { ...running, a: 'stopped' },
    });
    assert.deepEqual(actions, [
      cand(0, 'a'),
      { type: 'release', group: 'a', reason: reason() },
      cand(0, 'b'),
      cand(0, 'c'),
      stopRelease('c'),
    ]);
  });

  test('a failed stop does not hold up the others', () => {
    const s = snapshot({
      groups,
      intent: standby('n1'),
      owners: held,
      phases: { ...running, c: 'failed-stop' },
    });
    assert.equal(drainTurn(s), 'b');
  });

  test('a waiting group whose monitor fails over still leaves at once', () => {
    const actions = run({
      groups,
      intent: standby('n1'),
      owners: held,
      phases: running,
      requests: { a: [{ kind: 'failover', monitor: 'm', reason: 'm failed' }] },
    });
    assert.deepEqual(actions, [
      cand(0, 'a'),
      { type: 'mark-failed', group: 'a', node: 'n1', reason: 'm failed' },
      { type: 'stop-group', group: 'a', then: 'release', reason: 'monitor m failed' },
      cand(0, 'b'),
      cand(0, 'c'),
      stopRelease('c'),
    ]);
  });

  test('no turn on a node that is not in standby, or holds nothing', () => {
    assert.equal(drainTurn(snapshot({ groups, owners: held, phases: running })), null);
    assert.equal(drainTurn(snapshot({ groups, intent: standby('n1'), owners: { a: 'n2' } })), null);
  });
});
