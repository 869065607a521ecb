import type { HaloConfig } from '../config/model.js';
import type { CoordinatorView } from '../coordination/types.js';
import type { EngineStatus } from '../engine/engine.js';
import type { Timeline, TimelinePhase } from '../engine/event-log.js';
import type { ConfigVersion } from './config-store.js';

/** A node's own phase of one group: what it answers peers on `GET /v1/timelines`. */
export interface LocalGroupView {
  name: string;
  state: string;
  since: string;
  lastError: string | null;
}

/** What one peer answered (status asks the peers that are up; see peer-timelines.ts). */
export interface PeerView {
  node: string;
  timelines: Timeline[];
  /** Null when the peer did not answer. */
  groups: LocalGroupView[] | null;
}

export function localGroupViews(engine: EngineStatus): LocalGroupView[] {
  return engine.groups.map((g) => ({ name: g.name, state: g.phase, since: g.since, lastError: g.lastError }));
}

/**
 * The document behind `GET /v1/status` and `halo status --json`: the cluster as this node
 * sees it. Groups come from the engine, membership and quorum from coordination, and each
 * group's `lastFailover` joins this node's half of the last move with the peers' halves.
 * `onNodes` gives each node's own phase of the group, as the peers answered: a group's state
 * is its owner's phase, which only the owner knows (a standby's own phase is `stopped`).
 */
export function buildStatus(
  config: HaloConfig,
  engine: EngineStatus,
  coordination: CoordinatorView,
  peers: PeerView[] = [],
  configVersion?: ConfigVersion,
) {
  const peerTimelines = peers.flatMap((p) => p.timelines);
  const own = new Map<string, LocalGroupView[] | null>(peers.map((p) => [p.node, p.groups]));
  own.set(engine.node, localGroupViews(engine));
  const nodes = config.nodes.map((n) => {
    const member = coordination.members.find((m) => m.name === n.name);
    const self = n.name === engine.node;
    return {
      name: n.name,
      address: n.address,
      self,
      up: self ? true : (member?.up ?? false),
      eligible: self ? engine.eligible : (member?.eligible ?? false),
      reasons: self ? engine.ineligibleReasons : (member?.reasons ?? []),
      // Cluster intent, so every node shows the same; the groups it still holds are draining.
      standby: engine.standbyNodes.includes(n.name),
      lastSeenAgoMs: self ? 0 : (member?.lastSeenAgoMs ?? null),
      rttMs: member?.rttMs ?? null,
    };
  });
  const witness = coordination.members.find((m) => m.kind === 'witness');
  return {
    cluster: config.cluster.name,
    node: engine.node,
    epoch: config.epoch.toString(16),
    quorum: coordination.quorum,
    quarantined: coordination.quarantined,
    // Cluster intent: every node shows the same (each group says whether it is unmanaged too).
    maintenance: engine.maintenance,
    timing: config.cluster.timing,
    nodes,
    witness: witness ? { up: witness.up, lastSeenAgoMs: witness.lastSeenAgoMs, rttMs: witness.rttMs } : null,
    groups: engine.groups.map((g) => {
      const lease = coordination.leases.find((l) => l.group === g.name);
      const halves = [g.lastTimeline, ...peerTimelines.filter((t) => t.group === g.name)];
      return {
        ...g,
        owner: g.owner ?? lease?.owner ?? null,
        state: g.phase,
        term: g.term ?? lease?.term ?? null,
        leaseValidForMs: lease?.validForMs ?? null,
        pending: Object.fromEntries(
          g.resources
            .filter((r) => Object.keys(r.pendingParams).length > 0)
            .map((r) => [r.name, r.pendingParams]),
        ),
        lastFailover: mergeTimelines(halves.filter((t): t is Timeline => t !== null)),
        onNodes: (config.groups.find((c) => c.name === g.name)?.nodes ?? []).map((node) => {
          const view = own.get(node)?.find((v) => v.name === g.name);
          return {
            node,
            state: view?.state ?? null,
            since: view?.since ?? null,
            lastError: view?.lastError ?? null,
          };
        }),
      };
    }),
    monitors: engine.monitors,
    droppedMessages: coordination.droppedMessages,
    // The self-fencing helper: down or restarting means held groups may be demoted (null: none).
    deadman: coordination.deadman ?? null,
    // `halo config push` stores a new version that applies only when this agent restarts.
    ...(configVersion ? { config: configVersion } : {}),
  };
}

export interface FailoverStep {
  phase: TimelinePhase;
  node: string;
  at: string;
  /** Since the first phase of the whole failover. */
  sinceStartMs: number;
  /** Since the previous phase (on either node). */
  durationMs: number;
}

/** One move or failover of a group across both nodes: detected → … → healthy. */
export interface FailoverTimeline {
  group: string;
  reason: string;
  /** The node that stopped the group (null when it died and recorded nothing). */
  from: string | null;
  /** The node that started it (null while the new owner has not got the lease yet). */
  to: string | null;
  steps: FailoverStep[];
  totalMs: number;
  /** Both halves are there (or the old owner died) and the new owner reported healthy. */
  complete: boolean;
}

const OLD_SIDE: TimelinePhase[] = ['detected', 'decided', 'stopped'];
const ORDER: TimelinePhase[] = ['detected', 'decided', 'stopped', 'lease-granted', 'started', 'healthy'];

const startOf = (t: Timeline) => Date.parse(t.steps[0]?.at ?? '') || 0;
const endOf = (t: Timeline) => Date.parse(t.steps.at(-1)?.at ?? '') || 0;

/**
 * Joins per-node timeline halves of one group into the last failover. The anchor is the half
 * that ended last; the other node's half belongs to the same failover when the two overlap
 * or are at most `windowMs` apart (a handover takes at most a lease plus start time; a minute
 * covers every timing profile). Within a half, durations are the node's own monotonic ones;
 * across the hand-over they come from wall-clock times, so they are only as good as the
 * nodes' clock sync (NTP keeps that to a few ms; on one machine it is exact).
 */
export function mergeTimelines(halves: Timeline[], windowMs = 60_000): FailoverTimeline | null {
  const usable = halves.filter((t) => t.steps.length > 0);
  if (usable.length === 0) return null;
  const anchor = usable.reduce((a, b) => (endOf(b) > endOf(a) ? b : a));
  const byNode = new Map<string, Timeline>([[anchor.node, anchor]]);
  for (const t of usable) {
    if (t.node === anchor.node) continue;
    const near = endOf(t) >= startOf(anchor) - windowMs && startOf(t) <= endOf(anchor) + windowMs;
    const prev = byNode.get(t.node);
    if (near && (!prev || endOf(t) > endOf(prev))) byNode.set(t.node, t);
  }
  const isOld = (t: Timeline) => t.steps.every((s) => OLD_SIDE.includes(s.phase));
  const parts = [...byNode.values()].sort((a, b) => startOf(a) - startOf(b));
  // At most one old and one new half: a third node's half is a different hand-over.
  const oldHalf = parts.filter(isOld).at(-1) ?? null;
  const newHalf = parts.filter((t) => !isOld(t)).at(-1) ?? null;
  const chosen = [oldHalf, newHalf].filter((t): t is Timeline => t !== null);
  const raw = chosen
    .flatMap((t) => t.steps.map((s) => ({ ...s, node: t.node })))
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || ORDER.indexOf(a.phase) - ORDER.indexOf(b.phase));
  const steps: FailoverStep[] = [];
  let since = 0;
  for (const [i, s] of raw.entries()) {
    const prev = raw[i - 1];
    const duration = !prev
      ? 0
      : prev.node === s.node
        ? s.durationMs
        : Math.max(0, Date.parse(s.at) - Date.parse(prev.at));
    since += duration;
    steps.push({ phase: s.phase, node: s.node, at: s.at, sinceStartMs: since, durationMs: duration });
  }
  const has = (p: TimelinePhase) => steps.some((s) => s.phase === p);
  return {
    group: anchor.group,
    reason: oldHalf?.reason ?? newHalf?.reason ?? anchor.reason,
    from: oldHalf?.node ?? null,
    to: newHalf?.node ?? null,
    steps,
    totalMs: since,
    complete: has('healthy') && (oldHalf === null || has('stopped')),
  };
}
