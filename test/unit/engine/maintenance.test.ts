import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GroupConfig } from '../../../src/config/model.js';
import type { ClusterIntent } from '../../../src/coordination/types.js';
import { inMaintenance, intentKeys, parseIntent } from '../../../src/engine/intent.js';
import {
  type Action,
  drainTurn,
  type LocalPhase,
  type LocalRequest,
  type Snapshot,
  schedule,
} from '../../../src/engine/scheduler.js';

/**
 * Maintenance mode as the scheduler sees it: a group in maintenance (its own flag or the
 * cluster's) keeps exactly the state it has; the owner keeps renewing, nobody else competes.
 */

const toIntent = (raw: Record<string, unknown>): ClusterIntent =>
  Object.fromEntries(Object.entries(raw).map(([k, value]) => [k, { value, version: 1 }]));

function group(name: string, opts: { autoFailback?: boolean } = {}): GroupConfig {
  return {
    name,
    nodes: ['n1', 'n2', 'n3'],
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
  ineligible?: string[];
  down?: string[];
  owners?: Record<string, string | null>;
  phases?: Record<string, LocalPhase>;
  requests?: Record<string, LocalRequest[]>;
  unprobed?: string[];
}

function snapshot(g: Given): Snapshot {
  return {
    self: g.self ?? 'n1',
    groups: g.groups ?? [group('web')],
    intent: parseIntent(toIntent(g.intent ?? {})),
    members: ['n1', 'n2', 'n3'].map((name) => ({
      name,
      up: !(g.down ?? []).includes(name),
      eligible: !(g.ineligible ?? []).includes(name),
    })),
    owners: g.owners ?? {},
    phases: g.phases ?? {},
    requests: g.requests ?? {},
    ...(g.unprobed ? { unprobed: g.unprobed } : {}),
  };
}

const run = (g: Given) => schedule(snapshot(g));
const cand = (rank: number | null, g = 'web'): Action => ({ type: 'candidacy', group: g, rank });
const groupMaint = (g = 'web', on = true) => ({ [intentKeys.maintenance(g)]: on });
const clusterMaint = (on = true) => ({ [intentKeys.clusterMaintenance()]: on });

describe('maintenance intent', () => {
  test('group/<g>/maintenance and cluster/maintenance parse as booleans; other types are ignored', () => {
    const parsed = parseIntent(
      toIntent({ 'group/web/maintenance': true, 'group/db/maintenance': 'yes', 'cluster/maintenance': true }),
    );
    assert.equal(parsed.groups.web?.maintenance, true);
    assert.equal(parsed.groups.db, undefined, 'a wrong type creates no group entry');
    assert.equal(parsed.maintenance, true);
    assert.equal(parseIntent(toIntent({ 'cluster/maintenance': 1 })).maintenance, false);
  });

  test('inMaintenance: the group flag or the cluster flag', () => {
    assert.equal(inMaintenance(parseIntent(toIntent(groupMaint())), 'web'), true);
    assert.equal(inMaintenance(parseIntent(toIntent(groupMaint())), 'db'), false);
    assert.equal(inMaintenance(parseIntent(toIntent(clusterMaint())), 'db'), true);
    assert.equal(inMaintenance(parseIntent(toIntent({})), 'web'), false);
  });
});

describe('scheduler in maintenance', () => {
  for (const [label, intent] of [
    ['group maintenance', groupMaint()],
    ['cluster maintenance', clusterMaint()],
  ] as const) {
    test(`${label}: the owner keeps its candidacy and does nothing else, even when told to leave`, () => {
      const given = { owners: { web: 'n1' }, phases: { web: 'running' as const } };
      // Without maintenance each of these makes the owner stop the group.
      const leave: Given[] = [
        { ...given, intent: { ...intent, [intentKeys.state('web')]: 'stopped' } },
        { ...given, intent: { ...intent, [intentKeys.preferred('web')]: 'n2' } },
        { ...given, intent: { ...intent, [intentKeys.failed('web', 'n1')]: true } },
        { ...given, intent: { ...intent, [intentKeys.standby('n1')]: true } },
        { ...given, intent, requests: { web: [{ kind: 'failover', monitor: 'm', reason: 'down' }] } },
        { ...given, intent, requests: { web: [{ kind: 'restart', resource: 'app', monitor: 'm' }] } },
        { ...given, intent, ineligible: ['n1'] },
      ];
      for (const g of leave) assert.deepEqual(run(g), [cand(0)], JSON.stringify(g.intent));
      // The same snapshots without maintenance do act (the test would prove nothing otherwise).
      const off = { ...given, intent: { [intentKeys.state('web')]: 'stopped' } };
      assert.ok(run(off).some((a) => a.type === 'stop-group'));
    });

    test(`${label}: a node that does not own the group neither competes nor stops a running copy`, () => {
      assert.deepEqual(
        run({ intent, owners: { web: null } }),
        [cand(null)],
        'nobody owns it: nothing starts',
      );
      assert.deepEqual(run({ intent, owners: { web: 'n2' }, phases: { web: 'running' } }), [cand(null)]);
      assert.deepEqual(run({ intent, self: 'n2', owners: { web: 'n1' } }), [cand(null)]);
      assert.deepEqual(
        run({ intent, owners: { web: null }, phases: { web: 'running' } }),
        [cand(null)],
        'lease lost while in maintenance: the copy is left running',
      );
    });

    test(`${label}: a held but stopped group is neither started nor released`, () => {
      assert.deepEqual(run({ intent, owners: { web: 'n1' }, phases: { web: 'stopped' } }), [cand(0)]);
    });
  }

  test('a failed stop stays as it was (the lease runs out as before)', () => {
    assert.deepEqual(run({ intent: groupMaint(), owners: { web: 'n1' }, phases: { web: 'failed-stop' } }), [
      cand(null),
    ]);
  });

  test('group maintenance leaves the other groups managed', () => {
    const actions = run({ groups: [group('web'), group('db')], intent: groupMaint('web'), owners: {} });
    assert.deepEqual(actions, [cand(null), cand(0, 'db')]);
  });

  test('a drain passes over a group in maintenance and goes on with the others', () => {
    const s = snapshot({
      groups: [group('db'), group('web')],
      intent: { ...groupMaint('web'), [intentKeys.standby('n1')]: true },
      owners: { web: 'n1', db: 'n1' },
      phases: { web: 'running', db: 'running' },
    });
    assert.equal(drainTurn(s), 'db');
    const actions = schedule(s);
    assert.deepEqual(
      actions.filter((a) => a.group === 'web'),
      [cand(0)],
    );
    assert.ok(actions.some((a) => a.type === 'stop-group' && a.group === 'db'));
  });

  test('after maintenance nobody stands until every node that is up has probed (the owner keeps it)', () => {
    const left = (probed: Record<string, number>) => ({
      [intentKeys.maintenance('web')]: false,
      ...Object.fromEntries(Object.entries(probed).map(([n, v]) => [intentKeys.probed('web', n), v])),
    });
    // toIntent gives every key version 1: a probe recorded with 1 is one of this exit.
    assert.deepEqual(
      run({ intent: left({ n1: 1, n2: 1 }), owners: {} }),
      [cand(null)],
      'n3 is up, not probed',
    );
    assert.deepEqual(run({ intent: left({ n1: 1, n2: 1, n3: 1 }), owners: {} }), [cand(0)]);
    assert.deepEqual(
      run({ intent: left({ n1: 1, n2: 1, n3: 0 }), owners: {} }),
      [cand(null)],
      'an older probe',
    );
    assert.deepEqual(
      run({ intent: left({ n2: 1, n3: 1 }), owners: {} }),
      [cand(null)],
      'this node itself has not probed',
    );
    assert.deepEqual(
      run({ intent: left({ n1: 1, n2: 1 }), owners: {}, down: ['n3'] }),
      [cand(0)],
      'a node that is down is not waited for (it probes when its agent starts)',
    );
    assert.deepEqual(run({ intent: left({}), owners: { web: 'n1' }, phases: { web: 'running' } }), [cand(0)]);
  });

  test('after maintenance: a node that has not probed the group yet does not stand for it', () => {
    assert.deepEqual(run({ owners: {}, unprobed: ['web'] }), [cand(null)]);
    assert.deepEqual(run({ owners: {} }), [cand(0)], 'once probed it stands again');
    // The owner needs no probe: its monitors watch what it runs.
    assert.deepEqual(run({ owners: { web: 'n1' }, phases: { web: 'running' }, unprobed: ['web'] }), [
      cand(0),
    ]);
  });
});
