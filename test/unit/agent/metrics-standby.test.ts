import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderMetrics } from '../../../src/agent/metrics.js';
import type { CoordinatorView } from '../../../src/coordination/types.js';
import type { EngineStatus } from '../../../src/engine/engine-status.js';

const member = (name: string, kind: 'node' | 'witness') => ({
  name,
  kind,
  up: true,
  eligible: true,
  reasons: [],
  lastSeenAgoMs: 1,
  rttMs: 1,
  configEpoch: null,
});

test('halo_node_standby gives every node’s mode (1 in standby), the witness left out', () => {
  const engine: EngineStatus = {
    node: 'n2',
    eligible: true,
    ineligibleReasons: [],
    standbyNodes: ['n1'],
    maintenance: false,
    groups: [],
    monitors: [],
  };
  const coordination: CoordinatorView = {
    node: 'n2',
    quorum: true,
    quarantined: false,
    members: [member('n1', 'node'), member('n3', 'node'), member('witness', 'witness')],
    leases: [],
    droppedMessages: {},
  };
  const text = renderMetrics({ cluster: 'c1', engine, coordination, failovers: {} });
  const lines = text.split('\n').filter((l) => l.startsWith('halo_node_standby'));
  assert.deepEqual(lines, [
    'halo_node_standby{node="n1"} 1',
    'halo_node_standby{node="n2"} 0',
    'halo_node_standby{node="n3"} 0',
  ]);
  assert.match(text, /# TYPE halo_node_standby gauge/);
});

test('halo_group_maintenance per group and halo_cluster_maintenance', () => {
  const group = (name: string, maintenance: boolean) =>
    ({
      name,
      maintenance,
      phase: 'running',
      resources: [],
      monitors: [],
    }) as unknown as EngineStatus['groups'][number];
  const engine: EngineStatus = {
    node: 'n1',
    eligible: true,
    ineligibleReasons: [],
    standbyNodes: [],
    maintenance: true,
    groups: [group('web', true), group('db', false)],
    monitors: [],
  };
  const coordination = {
    node: 'n1',
    quorum: true,
    quarantined: false,
    members: [],
    leases: [],
    droppedMessages: {},
  } as unknown as CoordinatorView;
  const text = renderMetrics({ cluster: 'c1', engine, coordination, failovers: {} });
  assert.deepEqual(
    text.split('\n').filter((l) => /^halo_(group|cluster)_maintenance/.test(l)),
    [
      'halo_cluster_maintenance 1',
      'halo_group_maintenance{group="web"} 1',
      'halo_group_maintenance{group="db"} 0',
    ],
  );
});
