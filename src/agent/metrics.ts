import type { CoordinatorView } from '../coordination/types.js';
import type { EngineStatus } from '../engine/engine.js';

/**
 * Prometheus text exposition (format 0.0.4) of the agent's state. Rendered from the same
 * status snapshot the API serves, so the two never disagree.
 */

export interface MetricsInput {
  cluster: string;
  engine: EngineStatus;
  coordination: CoordinatorView;
  failovers: Record<string, number>;
  leaseRenewals: { count: number; sumMs: number };
  monitorLatency: Record<string, { count: number; sumMs: number }>;
}

const esc = (v: string) => v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
const labels = (l: Record<string, string>) =>
  `{${Object.entries(l)
    .map(([k, v]) => `${k}="${esc(v)}"`)
    .join(',')}}`;

export function renderMetrics(m: MetricsInput): string {
  const out: string[] = [];
  const metric = (
    name: string,
    type: string,
    help: string,
    samples: Array<[Record<string, string>, number]>,
  ) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [l, v] of samples)
      out.push(`${name}${Object.keys(l).length ? labels(l) : ''} ${Number.isFinite(v) ? v : 0}`);
  };
  const node = m.engine.node;
  metric('halo_up', 'gauge', 'The agent is running.', [[{ cluster: m.cluster, node }, 1]]);
  metric('halo_quorum', 'gauge', 'This node hears a majority of voters.', [
    [{ node }, m.coordination.quorum ? 1 : 0],
  ]);
  metric('halo_node_eligible', 'gauge', 'This node may host groups (node-level monitors pass).', [
    [{ node }, m.engine.eligible ? 1 : 0],
  ]);
  metric(
    'halo_member_up',
    'gauge',
    'A voter is heard by this node.',
    m.coordination.members.map((mem) => [{ member: mem.name, kind: mem.kind }, mem.up ? 1 : 0]),
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
    'The lease owner of each group as this node sees it (value 1, owner in a label).',
    m.engine.groups.map((g) => [{ group: g.name, owner: g.owner ?? '' }, 1]),
  );
  metric(
    'halo_failovers_total',
    'counter',
    'Failovers and moves that ended with the group started on this node.',
    Object.entries(m.failovers).map(([group, n]) => [{ group }, n]),
  );
  const monitors = [...m.engine.monitors, ...m.engine.groups.flatMap((g) => g.monitors)];
  metric(
    'halo_monitor_ok',
    'gauge',
    'Last result of each monitor (1 passing, 0 failing, -1 not run).',
    monitors.map((mon) => [{ monitor: mon.key }, mon.lastResult ? (mon.lastResult.ok ? 1 : 0) : -1]),
  );
  metric(
    'halo_monitor_consecutive_failures',
    'gauge',
    'Consecutive failures of each monitor.',
    monitors.map((mon) => [{ monitor: mon.key }, mon.consecutiveFailures]),
  );
  out.push(
    '# HELP halo_monitor_duration_seconds Probe durations.',
    '# TYPE halo_monitor_duration_seconds summary',
  );
  for (const [key, s] of Object.entries(m.monitorLatency)) {
    out.push(`halo_monitor_duration_seconds_sum${labels({ monitor: key })} ${s.sumMs / 1000}`);
    out.push(`halo_monitor_duration_seconds_count${labels({ monitor: key })} ${s.count}`);
  }
  out.push(
    '# HELP halo_lease_renewal_seconds Lease renewals of groups held here.',
    '# TYPE halo_lease_renewal_seconds summary',
  );
  out.push(
    `halo_lease_renewal_seconds_sum ${m.leaseRenewals.sumMs / 1000}`,
    `halo_lease_renewal_seconds_count ${m.leaseRenewals.count}`,
  );
  metric(
    'halo_dropped_messages_total',
    'counter',
    'Peer messages dropped (bad MAC, wrong cluster or epoch, replay, malformed).',
    Object.entries(m.coordination.droppedMessages).map(([reason, n]) => [{ reason }, n]),
  );
  return `${out.join('\n')}\n`;
}
