import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FinalAction, GroupConfig } from '../../../src/config/model.js';
import type { ClusterIntent } from '../../../src/coordination/types.js';
import { parseIntent } from '../../../src/engine/intent.js';
import { type Action, type LocalPhase, type LocalRequest, schedule } from '../../../src/engine/scheduler.js';

/** Golden cases: one group `web` on nodes n1, n2, n3 unless a case says otherwise. */
interface Given {
  self?: string;
  nodes?: string[];
  autoFailback?: boolean;
  intent?: Record<string, unknown>;
  down?: string[];
  ineligible?: string[];
  owner?: string | null;
  phase?: LocalPhase;
  requests?: LocalRequest[];
  finalAction?: FinalAction;
}

function webGroup(g: Given, name = 'web'): GroupConfig {
  return {
    name,
    nodes: g.nodes ?? ['n1', 'n2', 'n3'],
    autoFailback: g.autoFailback ?? false,
    fencing: 'lease',
    ...(g.finalAction ? { finalAction: g.finalAction } : {}),
    resources: [
      { name: 'vip', type: 'ip', after: [], params: {} },
      { name: 'app', type: 'process', after: ['vip'], params: {} },
    ],
    monitors: [],
  };
}

function toIntent(raw: Record<string, unknown> = {}): ClusterIntent {
  return Object.fromEntries(Object.entries(raw).map(([k, value]) => [k, { value, version: 1 }]));
}

function run(g: Given): Action[] {
  const all = ['n1', 'n2', 'n3', 'n4'];
  return schedule({
    self: g.self ?? 'n1',
    groups: [webGroup(g)],
    intent: parseIntent(toIntent(g.intent)),
    members: all.map((name) => ({
      name,
      up: !(g.down ?? []).includes(name),
      eligible: !(g.ineligible ?? []).includes(name),
    })),
    owners: { web: g.owner ?? null },
    phases: { web: g.phase ?? 'stopped' },
    requests: { web: g.requests ?? [] },
  });
}

const cand = (rank: number | null): Action => ({ type: 'candidacy', group: 'web', rank });
const start: Action = { type: 'start-group', group: 'web' };
const stopRelease = (reason: string): Action => ({
  type: 'stop-group',
  group: 'web',
  then: 'release',
  reason,
});
const release = (reason: string): Action => ({ type: 'release', group: 'web', reason });
const markFailed = (node: string, reason: string): Action => ({
  type: 'mark-failed',
  group: 'web',
  node,
  reason,
});
const allFailedAlert: Action = {
  type: 'alert',
  group: 'web',
  message: 'group web failed on every node; it stays down',
};
const lostLease: Action = { type: 'stop-group', group: 'web', then: 'hold', reason: 'lease lost' };
const clearPreferred: Action = { type: 'clear-preferred', group: 'web' };

const restartReq = (resource: string, monitor = 'appw'): LocalRequest => ({
  kind: 'restart',
  resource,
  monitor,
});
const failoverReq: LocalRequest = {
  kind: 'failover',
  monitor: 'appw',
  reason: 'appw failed 3 times: refused',
};

const cases: Array<[string, Given, Action[]]> = [
  // Candidacy and rank
  ['the first node of the group is rank 0 when everyone is up', {}, [cand(0)]],
  ['the second node of the group is rank 1', { self: 'n2' }, [cand(1)]],
  ['a down node does not count in the ranking', { self: 'n3', down: ['n2'] }, [cand(1)]],
  [
    'a node failed for the group does not count in the ranking',
    { self: 'n2', intent: { 'group/web/failed/n1': true } },
    [cand(0)],
  ],
  [
    'a failure mark set back to false counts as cleared',
    { self: 'n2', intent: { 'group/web/failed/n1': false } },
    [cand(1)],
  ],
  ['an ineligible node does not count in the ranking', { self: 'n2', ineligible: ['n1'] }, [cand(0)]],
  ['the group nodes order is the preference order', { self: 'n1', nodes: ['n2', 'n1'] }, [cand(1)]],
  ['a node outside the group nodes is never a candidate', { self: 'n4' }, [cand(null)]],
  ['a group stopped by intent has no candidates', { intent: { 'group/web/state': 'stopped' } }, [cand(null)]],
  ['an ineligible node is not a candidate', { ineligible: ['n1'] }, [cand(null)]],
  [
    'an ineligible node is not a candidate even when nobody else can run the group',
    { ineligible: ['n1'], down: ['n2', 'n3'] },
    [cand(null)],
  ],
  [
    'a node failed for the group is not a candidate',
    { intent: { 'group/web/failed/n1': true } },
    [cand(null)],
  ],
  [
    'a preferred node outside the group nodes is ignored',
    { self: 'n2', intent: { 'group/web/preferred': 'n4' } },
    [cand(1)],
  ],
  [
    'a preferred node that is down is ignored',
    { self: 'n1', intent: { 'group/web/preferred': 'n3' }, down: ['n3'] },
    [cand(0)],
  ],
  [
    'a failed preferred node is skipped and the rest keep their order',
    { self: 'n3', intent: { 'group/web/preferred': 'n2', 'group/web/failed/n2': true } },
    [cand(1)],
  ],

  // Start only under a lease
  ['the lease holder starts a stopped group', { owner: 'n1' }, [cand(0), start]],
  ['a node does not start a group another node holds', { owner: 'n2' }, [cand(0)]],
  ['a group that is starting gets no second start', { owner: 'n1', phase: 'starting' }, [cand(0)]],
  ['a running group with nothing pending needs nothing', { owner: 'n1', phase: 'running' }, [cand(0)]],
  ['a group that is stopping is left to finish', { owner: 'n1', phase: 'stopping' }, [cand(0)]],
  [
    'an ineligible holder with no alternative still starts the group',
    { owner: 'n1', ineligible: ['n1'], down: ['n2', 'n3'] },
    [cand(0), start],
  ],

  // autoFailback
  [
    'with autoFailback the owner hands back to a better node that is up',
    { self: 'n2', owner: 'n2', phase: 'running', autoFailback: true },
    [cand(1), stopRelease('failback to n1')],
  ],
  [
    'without autoFailback the owner keeps the group when a better node is up',
    { self: 'n2', owner: 'n2', phase: 'running' },
    [cand(1)],
  ],
  [
    'with autoFailback a better node that is down changes nothing',
    { self: 'n2', owner: 'n2', phase: 'running', autoFailback: true, down: ['n1'] },
    [cand(0)],
  ],
  [
    'with autoFailback a better node that is ineligible changes nothing',
    { self: 'n2', owner: 'n2', phase: 'running', autoFailback: true, ineligible: ['n1'] },
    [cand(0)],
  ],
  [
    'with autoFailback a better node failed for the group changes nothing',
    {
      self: 'n2',
      owner: 'n2',
      phase: 'running',
      autoFailback: true,
      intent: { 'group/web/failed/n1': true },
    },
    [cand(0)],
  ],
  [
    'with autoFailback the preferred node outranks the group order',
    {
      self: 'n2',
      owner: 'n2',
      phase: 'running',
      autoFailback: true,
      intent: { 'group/web/preferred': 'n2' },
    },
    [cand(0)],
  ],
  [
    'with autoFailback the owner does not hand over while still starting',
    { self: 'n2', owner: 'n2', phase: 'starting', autoFailback: true },
    [cand(1)],
  ],

  // Intent stop
  [
    'an admin stop makes the owner stop and release',
    { owner: 'n1', phase: 'running', intent: { 'group/web/state': 'stopped' } },
    [cand(0), stopRelease('stopped by admin')],
  ],
  [
    'an admin stop of a group already stopped here only releases',
    { owner: 'n1', intent: { 'group/web/state': 'stopped' } },
    [cand(0), release('stopped by admin')],
  ],
  [
    'an admin stop waits for a start in progress',
    { owner: 'n1', phase: 'starting', intent: { 'group/web/state': 'stopped' } },
    [cand(0)],
  ],
  [
    'an admin stop gives other nodes no candidacy',
    { self: 'n2', owner: 'n1', intent: { 'group/web/state': 'stopped' } },
    [cand(null)],
  ],
  [
    'an admin start after a stop makes the first node a candidate again',
    { intent: { 'group/web/state': 'started' } },
    [cand(0)],
  ],

  // Move
  [
    'a move makes the owner stop and release',
    { owner: 'n1', phase: 'running', intent: { 'group/web/preferred': 'n2' } },
    [cand(1), stopRelease('moving to n2')],
  ],
  [
    'a move target is the only candidate, at rank 0',
    { self: 'n3', intent: { 'group/web/preferred': 'n3' } },
    [cand(0)],
  ],
  [
    'during a move other nodes are not candidates',
    { self: 'n1', intent: { 'group/web/preferred': 'n3' } },
    [cand(null)],
  ],
  [
    'once the move target holds the lease the others rank behind it',
    { self: 'n1', owner: 'n2', intent: { 'group/web/preferred': 'n2' } },
    [cand(1)],
  ],
  [
    'without autoFailback a finished move clears the preference',
    { self: 'n2', owner: 'n2', phase: 'running', intent: { 'group/web/preferred': 'n2' } },
    [cand(0), clearPreferred],
  ],
  [
    'with autoFailback the preference stays after the move',
    {
      self: 'n2',
      owner: 'n2',
      phase: 'running',
      autoFailback: true,
      intent: { 'group/web/preferred': 'n2' },
    },
    [cand(0)],
  ],
  [
    'without autoFailback a preference for a failed node is cleared by the node that took over',
    {
      self: 'n3',
      owner: 'n3',
      phase: 'running',
      intent: { 'group/web/preferred': 'n2', 'group/web/failed/n2': true },
    },
    [cand(1), clearPreferred],
  ],

  // Start failure
  [
    'a failed start marks this node failed and releases',
    { owner: 'n1', requests: [{ kind: 'start-failed', reason: 'exit 1' }] },
    [cand(0), markFailed('n1', 'start failed: exit 1'), release('start failed')],
  ],
  [
    'a failed start already recorded in intent only releases',
    {
      owner: 'n1',
      intent: { 'group/web/failed/n1': true },
      requests: [{ kind: 'start-failed', reason: 'exit 1' }],
    },
    [cand(0), release('marked failed on this node')],
  ],
  [
    'after the release the failed node is no candidate',
    { owner: null, intent: { 'group/web/failed/n1': true } },
    [cand(null)],
  ],
  [
    'the next node takes rank 0 after a failed start on the preferred node',
    { self: 'n2', intent: { 'group/web/failed/n1': true } },
    [cand(0)],
  ],
  [
    'the last node to fail marks itself and raises an alert',
    {
      self: 'n3',
      owner: 'n3',
      intent: { 'group/web/failed/n1': true, 'group/web/failed/n2': true },
      requests: [{ kind: 'start-failed', reason: 'timeout' }],
    },
    [cand(0), markFailed('n3', 'start failed: timeout'), allFailedAlert, release('start failed')],
  ],
  [
    'when every node is failed nobody is a candidate',
    {
      self: 'n2',
      intent: { 'group/web/failed/n1': true, 'group/web/failed/n2': true, 'group/web/failed/n3': true },
    },
    [cand(null)],
  ],
  [
    'a failed start while the lease is already lost still marks the node',
    { owner: 'n2', requests: [{ kind: 'start-failed', reason: 'exit 2' }] },
    [cand(null), markFailed('n1', 'start failed: exit 2')],
  ],

  // Node ineligible
  [
    'an ineligible owner moves the group away when another node is eligible',
    { owner: 'n1', phase: 'running', ineligible: ['n1'] },
    [cand(0), stopRelease('node is ineligible')],
  ],
  [
    'an ineligible owner keeps the group when every other node is down',
    { owner: 'n1', phase: 'running', ineligible: ['n1'], down: ['n2', 'n3'] },
    [cand(0)],
  ],
  [
    'an ineligible owner keeps the group when the others are ineligible or failed',
    { owner: 'n1', phase: 'running', ineligible: ['n1', 'n2'], intent: { 'group/web/failed/n3': true } },
    [cand(0)],
  ],
  [
    'an ineligible owner keeps a group that may run only on it',
    { owner: 'n1', phase: 'running', ineligible: ['n1'], nodes: ['n1'] },
    [cand(0)],
  ],

  // Monitor restart, then failover
  [
    'a monitor restart request restarts the target resource',
    { owner: 'n1', phase: 'running', requests: [restartReq('app')] },
    [cand(0), { type: 'restart-resource', group: 'web', resource: 'app', monitor: 'appw' }],
  ],
  [
    'two restart requests for one resource give one restart',
    { owner: 'n1', phase: 'running', requests: [restartReq('app'), restartReq('app', 'other')] },
    [cand(0), { type: 'restart-resource', group: 'web', resource: 'app', monitor: 'appw' }],
  ],
  [
    'a restart request for an unknown resource is ignored',
    { owner: 'n1', phase: 'running', requests: [restartReq('nope')] },
    [cand(0)],
  ],
  [
    'a restart request waits while the group is stopping',
    { owner: 'n1', phase: 'stopping', requests: [restartReq('app')] },
    [cand(0)],
  ],
  [
    'a monitor failover request marks this node failed, stops and releases',
    { owner: 'n1', phase: 'running', requests: [failoverReq] },
    [cand(0), markFailed('n1', failoverReq.reason), stopRelease('monitor appw failed')],
  ],
  [
    'a failover request wins over a restart request',
    { owner: 'n1', phase: 'running', requests: [restartReq('app'), failoverReq] },
    [cand(0), markFailed('n1', failoverReq.reason), stopRelease('monitor appw failed')],
  ],
  [
    'a failover request on a group already stopped here only releases',
    { owner: 'n1', requests: [failoverReq] },
    [cand(0), markFailed('n1', failoverReq.reason), release('monitor appw failed')],
  ],
  [
    'the last node to fail also runs the final action when one is configured',
    {
      owner: 'n1',
      phase: 'running',
      intent: { 'group/web/failed/n2': true, 'group/web/failed/n3': true },
      requests: [failoverReq],
      finalAction: { type: 'stop-groups' },
    },
    [
      cand(0),
      markFailed('n1', failoverReq.reason),
      allFailedAlert,
      { type: 'final-action', group: 'web', action: { type: 'stop-groups' } },
      stopRelease('monitor appw failed'),
    ],
  ],
  [
    'a final action runs once: not again after this node is marked failed',
    {
      owner: 'n1',
      phase: 'running',
      intent: { 'group/web/failed/n1': true, 'group/web/failed/n2': true, 'group/web/failed/n3': true },
      requests: [failoverReq],
      finalAction: { type: 'command', command: 'true', timeoutMs: 1000 },
    },
    [cand(0), stopRelease('marked failed on this node')],
  ],
  [
    'no final action while another node can still take the group',
    {
      owner: 'n1',
      phase: 'running',
      intent: { 'group/web/failed/n2': true },
      requests: [failoverReq],
      finalAction: { type: 'stop-groups' },
    },
    [cand(0), markFailed('n1', failoverReq.reason), stopRelease('monitor appw failed')],
  ],
  [
    'a failover from the last usable node raises an alert',
    {
      owner: 'n1',
      phase: 'running',
      intent: { 'group/web/failed/n2': true, 'group/web/failed/n3': true },
      requests: [failoverReq],
    },
    [cand(0), markFailed('n1', failoverReq.reason), allFailedAlert, stopRelease('monitor appw failed')],
  ],
  [
    'other nodes rank without the node that failed over',
    { self: 'n3', intent: { 'group/web/failed/n1': true } },
    [cand(1)],
  ],

  // Suspended monitors
  [
    'a restart request from a suspended monitor is ignored',
    {
      owner: 'n1',
      phase: 'running',
      intent: { 'monitor/web/appw/suspended': true },
      requests: [restartReq('app')],
    },
    [cand(0)],
  ],
  [
    'a failover request from a suspended monitor is ignored',
    {
      owner: 'n1',
      phase: 'running',
      intent: { 'monitor/web/appw/suspended': true },
      requests: [failoverReq],
    },
    [cand(0)],
  ],
  [
    'a resumed monitor request is acted on again',
    {
      owner: 'n1',
      phase: 'running',
      intent: { 'monitor/web/appw/suspended': false },
      requests: [restartReq('app')],
    },
    [cand(0), { type: 'restart-resource', group: 'web', resource: 'app', monitor: 'appw' }],
  ],

  // Lease lost, failed stop
  [
    'a node that lost the lease stops without releasing',
    { owner: 'n2', phase: 'running' },
    [cand(0), lostLease],
  ],
  [
    'a node with no known owner but a running group stops without releasing',
    { owner: null, phase: 'running', intent: { 'group/web/state': 'stopped' } },
    [cand(null), lostLease],
  ],
  [
    'a failed stop withdraws candidacy and never releases',
    { owner: 'n1', phase: 'failed-stop' },
    [cand(null)],
  ],
  [
    'a failed stop stays put after the lease ran out',
    { owner: null, phase: 'failed-stop', requests: [failoverReq] },
    [cand(null)],
  ],
];

describe('schedule() golden cases', () => {
  for (const [name, given, want] of cases) {
    test(name, () => assert.deepEqual(run(given), want));
  }
});

describe('schedule() with several groups', () => {
  test('each group is decided on its own, in config order', () => {
    const g1 = webGroup({}, 'a');
    const g2 = { ...webGroup({}, 'b'), nodes: ['n2', 'n1'] };
    const actions = schedule({
      self: 'n1',
      groups: [g1, g2],
      intent: parseIntent(toIntent({ 'group/b/state': 'stopped' })),
      members: [
        { name: 'n1', up: true, eligible: true },
        { name: 'n2', up: true, eligible: true },
      ],
      owners: { a: 'n1', b: 'n1' },
      phases: { a: 'stopped', b: 'running' },
      requests: {},
    });
    assert.deepEqual(actions, [
      { type: 'candidacy', group: 'a', rank: 0 },
      { type: 'start-group', group: 'a' },
      { type: 'candidacy', group: 'b', rank: 1 },
      { type: 'stop-group', group: 'b', then: 'release', reason: 'stopped by admin' },
    ]);
  });

  test('a node missing from the member list counts as down', () => {
    const actions = schedule({
      self: 'n2',
      groups: [webGroup({})],
      intent: parseIntent({}),
      members: [{ name: 'n2', up: true, eligible: true }],
      owners: {},
      phases: {},
      requests: {},
    });
    assert.deepEqual(actions, [cand(0)]);
  });
});
