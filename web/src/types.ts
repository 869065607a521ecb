/**
 * The shapes the page reads from the agent: `GET /v1/status` (src/agent/status.ts), events
 * (src/engine/event-log.ts) and errors (`{ error: { code, message } }`). Kept by hand because
 * the browser build cannot import server modules; only the fields the page shows are listed.
 */

export type Access = 'read-write' | 'read-only';

export interface NodeView {
  name: string;
  address: string;
  self: boolean;
  up: boolean;
  eligible: boolean;
  reasons: string[];
  /** `halo node standby`: takes no group; older agents do not send it. */
  standby?: boolean;
  lastSeenAgoMs: number | null;
  rttMs: number | null;
}

export interface WitnessView {
  up: boolean;
  lastSeenAgoMs: number | null;
  rttMs: number | null;
}

export interface CheckView {
  state: string;
  reason?: string;
  output?: string;
  at: string;
}

export interface ResourceView {
  name: string;
  type: string;
  state: 'stopped' | 'starting' | 'running' | 'stopping' | 'failed';
  since: string;
  lastCheck: CheckView | null;
  lastError: string | null;
  pendingParams: Record<string, unknown>;
}

export interface MonitorView {
  key: string;
  name: string;
  type: string;
  group: string | null;
  target: string | null;
  state: 'suspended' | 'inactive' | 'pending' | 'passing' | 'failing';
  suspended: boolean;
  consecutiveFailures: number;
  restarts: number;
  lastResult: { ok: boolean; status: string; at: string; durationMs: number } | null;
  lastOutput: string | null;
}

export interface TimelineStep {
  phase: string;
  at: string;
  sinceStartMs: number;
  durationMs: number;
}

export interface Timeline {
  group: string;
  node: string;
  reason: string;
  steps: TimelineStep[];
  totalMs: number;
}

/** One failover across both nodes: the old owner's phases, then the new owner's. */
export interface FailoverView {
  group: string;
  reason: string;
  from: string | null;
  to: string | null;
  steps: Array<TimelineStep & { node: string }>;
  totalMs: number;
  complete: boolean;
}

export interface GroupView {
  name: string;
  owner: string | null;
  heldHere: boolean;
  term: string | null;
  state: 'stopped' | 'starting' | 'running' | 'stopping' | 'failed-stop';
  since: string;
  intent: { state: string; preferred: string | null; failedNodes: string[] };
  failed: boolean;
  /** `halo maintenance on`: unmanaged, left as it is; older agents do not send it. */
  maintenance?: boolean;
  lastError: string | null;
  leaseValidForMs: number | null;
  resources: ResourceView[];
  monitors: MonitorView[];
  pending: Record<string, Record<string, unknown>>;
  lastTimeline: Timeline | null;
  /** This node's and the peers' halves of the last move joined (src/agent/status.ts). */
  lastFailover?: FailoverView | null;
  /** Nodes the group may run on; older agents do not send it. */
  nodes?: string[];
}

export interface StatusView {
  cluster: string;
  node: string;
  epoch: string;
  quorum: boolean;
  quarantined: boolean;
  /** The whole cluster is in maintenance; older agents do not send it. */
  maintenance?: boolean;
  timing: { profile?: string; leaseMs?: number };
  nodes: NodeView[];
  witness: WitnessView | null;
  groups: GroupView[];
  monitors: MonitorView[];
}

export interface HaloEvent {
  seq: number;
  ts: string;
  node: string;
  type: string;
  level?: 'info' | 'warn' | 'error';
  message: string;
  group?: string;
  resource?: string;
  monitor?: string;
  output?: string;
  details?: Record<string, unknown>;
}
