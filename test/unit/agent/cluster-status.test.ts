import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildStatus, type LocalGroupView } from '../../../src/agent/status.js';
import { groupState, renderStatus } from '../../../src/cli/commands/status.js';
import type { CoordinatorView } from '../../../src/coordination/types.js';
import { parseConfig } from '../../../src/engine/config-catalog.js';
import type { EngineStatus, GroupStatus } from '../../../src/engine/engine-status.js';

/**
 * The cluster-wide group view of `halo status` (issue #19: on a standby, "store n2 stopped"
 * read as "the group is stopped"): each node's own phase, as the peers answered, and the
 * group's state taken from its owner.
 */

const config = parseConfig(
  `cluster: { name: c1, secretFile: cluster.key }
nodes:
  n1: { address: 10.0.0.1 }
  n2: { address: 10.0.0.2 }
  n3: { address: 10.0.0.3 }
groups:
  store:
    nodes: [n1, n2]
    resources: { s: { type: script, start: 'true', stop: 'true' } }
  batch:
    nodes: [n3, n2]
    resources: { s: { type: script, start: 'true', stop: 'true' } }
  idle:
    nodes: [n2, n3]
    resources: { s: { type: script, start: 'true', stop: 'true' } }
`,
  '/etc/halo/halo.yaml',
  { checkFiles: false },
);

const SINCE = '2026-12-01T10:00:00.000Z';

function group(name: string, owner: string | null, phase: GroupStatus['phase'], admin = false): GroupStatus {
  return {
    name,
    owner,
    heldHere: false,
    term: null,
    phase,
    since: SINCE,
    intent: {
      state: admin ? 'stopped' : 'started',
      preferred: null,
      failedNodes: [],
      failedReasons: {},
      expiredNodes: [],
      failures: {},
    },
    failed: false,
    maintenance: false,
    lastError: null,
    resources: [],
    monitors: [],
    lastTimeline: null,
  };
}

/** As n2 (a standby of store and batch) sees it. */
const engine: EngineStatus = {
  node: 'n2',
  eligible: true,
  ineligibleReasons: [],
  standbyNodes: [],
  maintenance: false,
  groups: [
    group('store', 'n1', 'stopped'),
    group('batch', 'n3', 'stopped'),
    group('idle', null, 'stopped', true),
  ],
  monitors: [],
};
const coordination: CoordinatorView = {
  node: 'n2',
  quorum: true,
  quarantined: false,
  members: [
    { name: 'n1', kind: 'node', up: true, eligible: true, reasons: [], lastSeenAgoMs: 10, rttMs: 1 },
    { name: 'n3', kind: 'node', up: true, eligible: true, reasons: [], lastSeenAgoMs: 10, rttMs: 1 },
  ] as unknown as CoordinatorView['members'],
  leases: [],
  droppedMessages: {},
};
const n1Groups: LocalGroupView[] = [
  { name: 'store', state: 'running', since: '2026-12-01T09:00:00.000Z', lastError: null },
  { name: 'batch', state: 'stopped', since: SINCE, lastError: null },
  { name: 'idle', state: 'stopped', since: SINCE, lastError: null },
];

test('each group lists every node of it with that node’s own phase; a node that did not answer is null', () => {
  // n1 answered; n3 (owner of batch) did not.
  const s = buildStatus(config, engine, coordination, [
    { node: 'n1', timelines: [], groups: n1Groups },
    { node: 'n3', timelines: [], groups: null },
  ]);
  const on = (name: string) => s.groups.find((g) => g.name === name)!.onNodes;
  assert.deepEqual(on('store'), [
    { node: 'n1', state: 'running', since: '2026-12-01T09:00:00.000Z', lastError: null },
    { node: 'n2', state: 'stopped', since: SINCE, lastError: null },
  ]);
  assert.deepEqual(
    on('batch').map((n) => [n.node, n.state]),
    [
      ['n3', null],
      ['n2', 'stopped'],
    ],
  );
  // Without asking the peers (peers=0) only this node's own phase is known.
  const local = buildStatus(config, engine, coordination);
  assert.deepEqual(
    local.groups[0]!.onNodes.map((n) => [n.node, n.state]),
    [
      ['n1', null],
      ['n2', 'stopped'],
    ],
  );
});

test('halo status on a standby shows the group running on its owner, and every node’s phase', () => {
  const s = buildStatus(config, engine, coordination, [
    { node: 'n1', timelines: [], groups: n1Groups },
    {
      node: 'n3',
      timelines: [],
      groups: [{ name: 'batch', state: 'failed-stop', since: SINCE, lastError: 's: stop timed out' }],
    },
  ]);
  const out = renderStatus(s as unknown as Parameters<typeof renderStatus>[0]);
  const rows = out.split('\n');
  const header = rows.findIndex((l) => /^GROUP\s/.test(l));
  assert.match(rows[header]!, /^GROUP\s+OWNER\s+STATE\s+n1\s+n2\s+n3\s+SINCE\s+NOTE$/);
  assert.match(
    rows[header + 1]!,
    /^store\s+n1\s+running\s+running\s+stopped\s+-\s+2026-12-01T09:00:00\.000Z$/,
  );
  assert.match(
    rows[header + 2]!,
    /^batch\s+n3\s+failed-stop\s+-\s+stopped\s+failed-stop\s+\S+\s+n3: s: stop timed out$/,
  );
  // n3 sent no view of "idle" (a partial answer): unknown there.
  assert.match(rows[header + 3]!, /^idle\s+-\s+stopped \(admin\)\s+-\s+stopped\s+\?\s+/);
  assert.doesNotMatch(out, /standby/);
});

test('the group state: admin stop, the owner’s phase, an owner that did not answer, no owner', () => {
  const g = (owner: string | null, admin = false) =>
    ({ ...group('web', owner, 'stopped', admin), onNodes: [] }) as unknown as Parameters<
      typeof groupState
    >[0];
  const on = (a: string | null, b: string | null) => [
    { node: 'n1', state: a, since: null, lastError: null },
    { node: 'n2', state: b, since: null, lastError: null },
  ];
  assert.equal(groupState(g('n1', true), on('running', 'stopped')), 'stopped (admin)');
  assert.equal(groupState(g('n1'), on('starting', 'stopped')), 'starting');
  assert.equal(groupState(g('n1'), on(null, 'stopped')), '? (owner n1 did not answer)');
  assert.equal(groupState(g(null), on('stopping', null)), 'stopping on n1');
  assert.equal(groupState(g(null), on('stopped', 'stopped')), 'stopped');
});

test('a node in standby shows in the status document and in halo status, with the groups it still drains', () => {
  const s = buildStatus(config, { ...engine, standbyNodes: ['n1', 'n3'] }, coordination, [
    { node: 'n1', timelines: [], groups: n1Groups },
  ]);
  assert.deepEqual(
    s.nodes.map((n) => [n.name, n.standby]),
    [
      ['n1', true],
      ['n2', false],
      ['n3', true],
    ],
  );
  const out = renderStatus(s as unknown as Parameters<typeof renderStatus>[0]);
  const rows = out.split('\n');
  const header = rows.findIndex((l) => /^NODE\s/.test(l));
  assert.match(rows[header]!, /^NODE\s+STATE\s+ELIGIBLE\s+MODE$/);
  assert.match(rows[header + 1]!, /^n1\s+up\s+yes\s+standby, draining: store$/);
  assert.match(rows[header + 2]!, /^n2 \(this node\)\s+up\s+yes\s+active$/);
  assert.match(rows[header + 3]!, /^n3\s+up\s+yes\s+standby, draining: batch$/);
});

test('maintenance shows in the status document and in halo status: the cluster line and each unmanaged group', () => {
  const store = { ...group('store', 'n1', 'stopped'), maintenance: true };
  const s = buildStatus(
    config,
    { ...engine, groups: [store, group('batch', 'n3', 'stopped')] },
    coordination,
  );
  assert.equal(s.maintenance, false);
  assert.deepEqual(
    s.groups.map((g) => [g.name, g.maintenance]),
    [
      ['store', true],
      ['batch', false],
    ],
  );
  const out = renderStatus(s as unknown as Parameters<typeof renderStatus>[0]);
  assert.match(out, /^store\s+n1\s.*MAINTENANCE$/m);
  assert.doesNotMatch(out, /^batch\s.*MAINTENANCE/m);
  assert.match(out, /^group store: MAINTENANCE \(unmanaged: left as it is\)$/m);
  assert.doesNotMatch(out.split('\n')[0]!, /MAINTENANCE/);
  const all = buildStatus(config, { ...engine, maintenance: true }, coordination);
  assert.match(
    renderStatus(all as unknown as Parameters<typeof renderStatus>[0]).split('\n')[0]!,
    /MAINTENANCE: no group is managed$/,
  );
});
