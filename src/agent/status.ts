import type { HaloConfig } from '../config/model.js';
import type { CoordinatorView } from '../coordination/types.js';
import type { EngineStatus } from '../engine/engine.js';

/**
 * The document behind `GET /v1/status` and `halo status --json`: the cluster as this node
 * sees it. Groups come from the engine, membership and quorum from coordination.
 */
export function buildStatus(config: HaloConfig, engine: EngineStatus, coordination: CoordinatorView) {
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
    timing: config.cluster.timing,
    nodes,
    witness: witness ? { up: witness.up, lastSeenAgoMs: witness.lastSeenAgoMs, rttMs: witness.rttMs } : null,
    groups: engine.groups.map((g) => {
      const lease = coordination.leases.find((l) => l.group === g.name);
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
      };
    }),
    monitors: engine.monitors,
    droppedMessages: coordination.droppedMessages,
  };
}
