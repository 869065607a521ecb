import type { ReceiverStatus } from '../alerts/dispatcher.js';
import type { CoordinatorView } from '../coordination/types.js';
import type { EngineStatus } from '../engine/engine.js';

/**
 * Prometheus text exposition (format 0.0.4) of the agent's state. Rendered from the same
 * engine and coordination snapshots the status API serves, so the two never disagree.
 * Every metric is about this node's view; scrape every node.
 */

export interface MetricsInput {
  cluster: string;
  engine: EngineStatus;
  coordination: CoordinatorView;
  /** Failovers and moves that ended with the group started here, per group. */
  failovers: Record<string, number>;
  /** Alert receivers' delivery counters (absent or empty: no receivers). */
  alerts?: ReceiverStatus[];
  /** The agent process's memory (absent: not reported). */
  memory?: MemoryUse;
}

/** Resident memory of the agent process and the V8 heap of each of its threads. */
export interface MemoryUse {
  residentBytes: number;
  heaps: Array<{ thread: 'main' | 'coordination'; usedBytes: number; totalBytes: number }>;
}

const PHASES = ['stopped', 'starting', 'running', 'stopping', 'failed-stop'] as const;

const esc = (v: string) => v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
const labels = (l: Record<string, string>) =>
  `{${Object.entries(l)
    .map(([k, v]) => `${k}="${esc(v)}"`)
    .join(',')}}`;
const num = (v: number) => (Number.isFinite(v) ? String(v) : '0');

export function renderMetrics(m: MetricsInput): string {
  const out: string[] = [];
  const metric = (
    name: string,
    type: 'gauge' | 'counter',
    help: string,
    samples: Array<[Record<string, string>, number]>,
  ) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [l, v] of samples) out.push(`${name}${Object.keys(l).length ? labels(l) : ''} ${num(v)}`);
  };
  const node = m.engine.node;
  const c = m.coordination;
  metric('halo_up', 'gauge', 'The agent is running.', [[{ cluster: m.cluster, node }, 1]]);
  metric('halo_quorum', 'gauge', 'This node hears a majority of voters.', [[{ node }, c.quorum ? 1 : 0]]);
  metric('halo_quarantined', 'gauge', 'This node is in its restart quarantine (votes for nobody).', [
    [{ node }, c.quarantined ? 1 : 0],
  ]);
  metric('halo_node_eligible', 'gauge', 'This node may host groups (node-level monitors pass).', [
    [{ node }, m.engine.eligible ? 1 : 0],
  ]);
  // Cluster intent, the same on every node: each node's mode, so one scrape shows them all.
  const nodes = [
    node,
    ...c.members.filter((mem) => mem.kind === 'node' && mem.name !== node).map((mem) => mem.name),
  ];
  metric(
    'halo_node_standby',
    'gauge',
    'The node is in standby (halo node standby): it takes no group.',
    nodes.sort().map((n) => [{ node: n }, m.engine.standbyNodes.includes(n) ? 1 : 0]),
  );
  metric(
    'halo_cluster_maintenance',
    'gauge',
    'The whole cluster is in maintenance (halo maintenance on): no group is managed.',
    [[{}, m.engine.maintenance ? 1 : 0]],
  );
  metric(
    'halo_group_maintenance',
    'gauge',
    "The group is unmanaged (its own maintenance or the cluster's): Halo leaves its resources as they are.",
    m.engine.groups.map((g) => [{ group: g.name }, g.maintenance ? 1 : 0]),
  );
  metric(
    'halo_member_up',
    'gauge',
    'A voter is heard by this node.',
    c.members.map((mem) => [{ member: mem.name, kind: mem.kind }, mem.up ? 1 : 0]),
  );
  metric(
    'halo_group_state',
    'gauge',
    "This node's phase of each group (1 for the current phase, 0 for the others).",
    m.engine.groups.flatMap((g) =>
      PHASES.map((p): [Record<string, string>, number] => [
        { group: g.name, state: p },
        g.phase === p ? 1 : 0,
      ]),
    ),
  );
  metric(
    'halo_group_active',
    'gauge',
    'The group is running on this node.',
    m.engine.groups.map((g) => [{ group: g.name, node }, g.phase === 'running' ? 1 : 0]),
  );
  metric(
    'halo_group_owner',
    'gauge',
    'The lease owner of each group as this node sees it (value 1, owner in a label; "" for none).',
    m.engine.groups.map((g) => [{ group: g.name, owner: g.owner ?? '' }, 1]),
  );
  metric(
    'halo_group_lease_valid_seconds',
    'gauge',
    'Time left on the lease of each group this node holds.',
    c.leases.flatMap((l) => (l.validForMs === null ? [] : [[{ group: l.group }, l.validForMs / 1000]])),
  );
  metric(
    'halo_failovers_total',
    'counter',
    'Failovers and moves that ended with the group started on this node.',
    m.engine.groups.map((g) => [{ group: g.name }, m.failovers[g.name] ?? 0]),
  );
  const monitors = [...m.engine.monitors, ...m.engine.groups.flatMap((g) => g.monitors)];
  metric(
    'halo_monitor_ok',
    'gauge',
    'Last result of each monitor (1 passing, 0 failing, -1 not run yet).',
    monitors.map((mon) => [{ monitor: mon.key }, mon.lastResult ? (mon.lastResult.ok ? 1 : 0) : -1]),
  );
  metric(
    'halo_monitor_suspended',
    'gauge',
    'The monitor is suspended by an operator.',
    monitors.map((mon) => [{ monitor: mon.key }, mon.suspended ? 1 : 0]),
  );
  metric(
    'halo_monitor_consecutive_failures',
    'gauge',
    'Consecutive failures of each monitor.',
    monitors.map((mon) => [{ monitor: mon.key }, mon.consecutiveFailures]),
  );
  metric(
    'halo_monitor_duration_seconds',
    'gauge',
    'How long the last probe of each monitor took.',
    monitors.flatMap((mon) =>
      mon.lastResult ? [[{ monitor: mon.key }, mon.lastResult.durationMs / 1000] as const] : [],
    ) as Array<[Record<string, string>, number]>,
  );
  const renewals = c.leaseRenewals ?? { count: 0, sumMs: 0 };
  metric('halo_lease_renewals_total', 'counter', 'Successful renewals of leases held by this node.', [
    [{}, renewals.count],
  ]);
  metric(
    'halo_lease_renewal_seconds_total',
    'counter',
    'Sum of renewal round times (PREPARE sent → majority ACCEPTED); divide by halo_lease_renewals_total.',
    [[{}, renewals.sumMs / 1000]],
  );
  const deadman = c.deadman;
  if (deadman) {
    metric('halo_deadman_up', 'gauge', 'The deadman helper runs and answers (1), or not (0).', [
      [{ node, state: deadman.state }, deadman.state === 'ready' ? 1 : 0],
    ]);
    metric('halo_deadman_restarts_total', 'counter', 'Deadman helpers started after the previous one died.', [
      [{ node }, deadman.restarts],
    ]);
    metric(
      'halo_deadman_unfenced_groups',
      'gauge',
      'Groups held here for which no running helper holds a deadline (demoted at their demote point if that lasts).',
      [[{ node }, deadman.unfenced.length]],
    );
  }
  metric(
    'halo_dropped_messages_total',
    'counter',
    'Peer messages dropped (bad MAC, wrong cluster or epoch, replay, malformed).',
    Object.entries(c.droppedMessages).map(([reason, n]) => [{ reason }, n]),
  );
  const alerts = m.alerts ?? [];
  if (alerts.length > 0) {
    const per = (pick: (r: ReceiverStatus) => number): Array<[Record<string, string>, number]> =>
      alerts.map((r) => [{ receiver: r.name, type: r.type }, pick(r)]);
    metric(
      'halo_alerts_sent_total',
      'counter',
      'Alerts delivered to each receiver.',
      per((r) => r.sent),
    );
    metric(
      'halo_alerts_failed_total',
      'counter',
      'Alerts given up after every attempt failed (each also an alert-failed event).',
      per((r) => r.failed),
    );
    metric(
      'halo_alerts_dropped_total',
      'counter',
      'Alerts dropped unsent because the receiver queue was full (the oldest goes first).',
      per((r) => r.dropped),
    );
    metric(
      'halo_alerts_queued',
      'gauge',
      'Alerts waiting for each receiver.',
      per((r) => r.queued),
    );
  }
  if (m.memory) {
    metric('halo_resident_memory_bytes', 'gauge', 'Resident memory (RSS) of the agent process.', [
      [{ node }, m.memory.residentBytes],
    ]);
    metric(
      'halo_heap_used_bytes',
      'gauge',
      'V8 heap in use (live objects and garbage not yet collected), per thread of the agent.',
      m.memory.heaps.map((h) => [{ node, thread: h.thread }, h.usedBytes]),
    );
    metric(
      'halo_heap_size_bytes',
      'gauge',
      'V8 heap reserved, per thread of the agent.',
      m.memory.heaps.map((h) => [{ node, thread: h.thread }, h.totalBytes]),
    );
  }
  return `${out.join('\n')}\n`;
}
