import type { MonitorView } from './engine-monitors.js';
import type { Timeline } from './event-log.js';
import { markExpiresAt } from './failure-expiry.js';
import { describeFence, type FenceState } from './fencing/fence-plan.js';
import type { ResourceRunState } from './group-runner.js';
import type { GroupSlot } from './group-state.js';
import { type GroupIntent, groupIntent, inMaintenance, monitorOff, type ParsedIntent } from './intent.js';
import type { ProbeReport } from './monitor-runner.js';
import type { CheckResult } from './resources/types.js';
import type { LocalPhase } from './scheduler.js';

/**
 * The plain `EngineStatus` object the API, the CLI and the web UI show, and its projection
 * from the engine's group state (owned by `group-state.ts`) and monitor slots (owned by
 * `engine-monitors.ts`). Read-only: nothing here changes engine state.
 */

export interface ResourceStatus {
  name: string;
  type: string;
  state: ResourceRunState;
  since: string;
  lastCheck: { state: CheckResult['state']; reason?: string; output?: string; at: string } | null;
  lastError: string | null;
  /** Output of the operation that failed last (its error names only the last line). */
  lastOutput: string | null;
  /** Restart-mode parameter changes waiting for the next restart of this resource. */
  pendingParams: Record<string, unknown>;
}

export type MonitorState = 'suspended' | 'inactive' | 'pending' | 'passing' | 'failing';

export interface MonitorStatus {
  /** `group/name` for group monitors, `name` for node-level ones. */
  key: string;
  name: string;
  type: string;
  group: string | null;
  target: string | null;
  state: MonitorState;
  suspended: boolean;
  consecutiveFailures: number;
  restarts: number;
  lastResult: { ok: boolean; status: ProbeReport['status']; at: string; durationMs: number } | null;
  lastOutput: string | null;
}

export interface GroupStatus {
  name: string;
  /** Cluster-wide lease owner as this node knows it. */
  owner: string | null;
  heldHere: boolean;
  term: string | null;
  phase: LocalPhase;
  /** When `phase` last changed (ISO). */
  since: string;
  intent: {
    state: GroupIntent['state'];
    preferred: string | null;
    failedNodes: string[];
    /** Why each failed node was marked, as written to the cluster intent by that node. */
    failedReasons: Record<string, string>;
    /** Nodes whose mark is older than the group's failureTimeout: no longer counted. */
    expiredNodes: string[];
    /** Every mark, counted or expired, by node. */
    failures: Record<string, FailureMarkStatus>;
  };
  /** Every node of the group is marked failed: it stays down until failures are cleared. */
  failed: boolean;
  /** Unmanaged (its own flag or the cluster's): Halo leaves its resources as they are. */
  maintenance: boolean;
  lastError: string | null;
  resources: ResourceStatus[];
  monitors: MonitorStatus[];
  lastTimeline: Timeline | null;
  /** `fencing: stonith` groups: where fencing of the previous owner stands for the current or last term. */
  fencing?: {
    phase: FenceState['phase'];
    target: string | null;
    attempts: number;
    message: string;
  } | null;
}

export interface FailureMarkStatus {
  reason: string | null;
  /** When the mark was written (ISO); null for a mark of a peer that does not record it. */
  since: string | null;
  /** When it stops counting (ISO); null: it counts until `halo cleanup`. */
  expiresAt: string | null;
  expired: boolean;
}

export interface EngineStatus {
  node: string;
  eligible: boolean;
  ineligibleReasons: string[];
  /** Nodes in standby (cluster intent): they take no group. */
  standbyNodes: string[];
  /** The whole cluster is in maintenance: every group unmanaged, node-level monitors suspended. */
  maintenance: boolean;
  groups: GroupStatus[];
  /** Node-level monitors. */
  monitors: MonitorStatus[];
}

const iso = (ms: number) => new Date(ms).toISOString();

export function groupStatus(
  g: GroupSlot,
  intent: ParsedIntent,
  owner: string | null,
  monitors: Iterable<MonitorView>,
  lastTimeline: Timeline | null,
  fence: FenceState | null = null,
  /** Cluster-wide pending parameters (engine-params.ts); this node's own when absent. */
  pendingOf?: (group: string, resource: string) => Record<string, unknown>,
): GroupStatus {
  const gi = groupIntent(intent, g.config.name);
  return {
    name: g.config.name,
    owner,
    heldHere: g.state.held,
    term: g.state.term,
    phase: g.state.phase,
    since: iso(g.state.since),
    intent: {
      state: gi.state,
      preferred: gi.preferred,
      failedNodes: [...gi.failed],
      failedReasons: Object.fromEntries(
        Object.entries(gi.failedReasons).filter(([node]) => gi.failed.includes(node)),
      ),
      expiredNodes: [...gi.expired],
      failures: failureMarks(gi, g.config.failureTimeoutMs),
    },
    failed: g.config.nodes.every((n) => gi.failed.includes(n)),
    maintenance: inMaintenance(intent, g.config.name),
    lastError: g.state.lastError,
    resources: [...g.resources.values()].map((r) => ({
      name: r.config.name,
      type: r.config.type,
      state: r.state,
      since: iso(r.since),
      lastCheck: r.lastCheck,
      lastError: r.lastError,
      lastOutput: r.lastOutput,
      pendingParams: pendingOf ? pendingOf(g.config.name, r.config.name) : { ...r.pending },
    })),
    monitors: monitorStatuses(monitors, intent, g),
    lastTimeline,
    ...(g.config.fencing === 'stonith'
      ? {
          fencing:
            fence === null
              ? null
              : {
                  phase: fence.phase,
                  target: fence.phase === 'none' ? null : fence.target.node,
                  attempts: fence.phase === 'none' ? 0 : fence.attempts,
                  message: describeFence(fence),
                },
        }
      : {}),
  };
}

function failureMarks(gi: GroupIntent, timeoutMs: number | undefined): Record<string, FailureMarkStatus> {
  const marks: Record<string, FailureMarkStatus> = {};
  for (const node of [...gi.failed, ...gi.expired].sort()) {
    const since = gi.failedAt[node];
    const expiresAt = markExpiresAt(gi.failedAt, node, timeoutMs);
    marks[node] = {
      reason: gi.failedReasons[node] ?? null,
      since: since === undefined ? null : iso(since),
      expiresAt: expiresAt === null ? null : iso(expiresAt),
      expired: gi.expired.includes(node),
    };
  }
  return marks;
}

export function monitorStatuses(
  monitors: Iterable<MonitorView>,
  intent: ParsedIntent,
  group: GroupSlot | null,
): MonitorStatus[] {
  return [...monitors]
    .filter((m) => m.group === group)
    .map((m) => {
      const suspended = intent.suspended.includes(m.key);
      const active = m.runner.state !== 'inactive';
      let state: MonitorState = 'pending';
      if (monitorOff(intent, m.key, m.group?.config.name ?? null)) state = 'suspended';
      else if (!active) state = 'inactive';
      else if (m.resultSinceActive && m.last) state = m.last.ok ? 'passing' : 'failing';
      return {
        key: m.key,
        name: m.config.name,
        type: m.config.type,
        group: m.group?.config.name ?? null,
        target: m.config.target ?? null,
        state,
        suspended,
        consecutiveFailures: m.ladder.consecutiveFailures,
        restarts: m.ladder.restarts,
        lastResult: m.last
          ? { ok: m.last.ok, status: m.last.status, at: iso(m.last.wall), durationMs: m.last.durationMs }
          : null,
        lastOutput: m.last?.output ?? null,
      };
    });
}
