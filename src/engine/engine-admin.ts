import { HaloError } from '../errors.js';
import type { EngineCore } from './engine-core.js';
import type { EngineMonitors } from './engine-monitors.js';
import { clearFailuresEntries, groupIntent, intentKeys, type ParsedIntent } from './intent.js';
import { rankCandidates, type Snapshot } from './scheduler.js';

export interface StandbyOutcome {
  /** Groups the node holds (they leave one at a time). */
  held: string[];
  /** Those of them no other node can take now: they stop. */
  stopping: string[];
}

/**
 * Operator requests on groups and monitors: each becomes an intent write (the scheduler on
 * every node acts on it). Parameter changes are EngineParams'.
 */
export class EngineAdmin {
  private readonly core: EngineCore;
  private readonly monitors: EngineMonitors;
  private readonly snapshot: (intent: ParsedIntent) => Snapshot;

  constructor(core: EngineCore, monitors: EngineMonitors, snapshot: (intent: ParsedIntent) => Snapshot) {
    this.core = core;
    this.monitors = monitors;
    this.snapshot = snapshot;
  }

  async move(group: string, to?: string): Promise<{ to: string }> {
    const { core } = this;
    const g = core.group(group);
    const intent = core.intent();
    let target = to;
    if (target !== undefined && !g.config.nodes.includes(target)) {
      throw new HaloError('HALO_E_BAD_REQUEST', `node ${target} is not one of the nodes of group ${group}`, {
        group,
        nodes: g.config.nodes,
      });
    }
    if (target === undefined) {
      const gi = { ...groupIntent(intent, group), preferred: null };
      const owner = core.ownerOf(g);
      target = rankCandidates(this.snapshot(intent), g.config, gi, owner).candidates.find((n) => n !== owner);
      if (target === undefined) {
        throw new HaloError('HALO_E_CONFLICT', `no other node can take group ${group} now`, { group, owner });
      }
    }
    await core.writeIntent({
      [intentKeys.preferred(group)]: target,
      [intentKeys.failed(group, target)]: false,
      [intentKeys.state(group)]: 'started',
    });
    core.event({ type: 'intent', group, message: `move of ${group} to ${target} requested` });
    return { to: target };
  }

  async startGroup(group: string, on?: string): Promise<void> {
    const { core } = this;
    const g = core.group(group);
    if (on !== undefined && !g.config.nodes.includes(on)) {
      throw new HaloError('HALO_E_BAD_REQUEST', `node ${on} is not one of the nodes of group ${group}`, {
        group,
      });
    }
    await core.writeIntent({
      ...clearFailuresEntries(core.intent(), group),
      [intentKeys.state(group)]: 'started',
      ...(on !== undefined ? { [intentKeys.preferred(group)]: on } : {}),
    });
    core.event({ type: 'intent', group, message: `start of ${group} requested${on ? ` on ${on}` : ''}` });
  }

  async stopGroup(group: string): Promise<void> {
    this.core.group(group);
    await this.core.writeIntent({ [intentKeys.state(group)]: 'stopped' });
    this.core.event({ type: 'intent', group, message: `stop of ${group} requested` });
  }

  /**
   * Puts `node` in standby (or takes it out): cluster intent, so every node's scheduler acts on
   * it and it survives restarts. Answers which groups the node holds now, and which of them no
   * other node can take (they stop, as in Pacemaker), as this node sees it.
   */
  async setStandby(node: string, standby: boolean): Promise<StandbyOutcome> {
    const { core } = this;
    const nodes = core.opts.config.nodes.map((n) => n.name);
    if (!nodes.includes(node)) {
      throw new HaloError('HALO_E_NOT_FOUND', `no node ${node}; the nodes are ${nodes.join(', ')}`, {
        node,
        nodes,
      });
    }
    const before = core.intent();
    const already = before.standbyNodes.includes(node) === standby;
    await core.writeIntent({ [intentKeys.standby(node)]: standby });
    core.event({
      type: 'intent',
      message: `${standby ? 'standby' : 'unstandby'} of node ${node} requested${already ? ` (it was already ${standby ? 'in standby' : 'active'})` : ''}`,
      details: { node, standby },
    });
    if (!standby) return { held: [], stopping: [] };
    const intent = { ...before, standbyNodes: [...new Set([...before.standbyNodes, node])] };
    const snapshot = this.snapshot(intent);
    const held = [...core.groups.values()].filter((g) => core.ownerOf(g) === node);
    return {
      held: held.map((g) => g.config.name),
      stopping: held
        .filter((g) => {
          const gi = groupIntent(intent, g.config.name);
          return rankCandidates(snapshot, g.config, gi, node).candidates.length === 0;
        })
        .map((g) => g.config.name),
    };
  }

  /**
   * Maintenance (unmanaged) of one group, or of the whole cluster when `group` is null: cluster
   * intent, so every node freezes the group(s) and the flag survives restarts.
   */
  async setMaintenance(group: string | null, on: boolean): Promise<void> {
    const { core } = this;
    if (group !== null) core.group(group);
    const key = group === null ? intentKeys.clusterMaintenance() : intentKeys.maintenance(group);
    await core.writeIntent({ [key]: on });
    const what = group === null ? 'cluster maintenance' : `maintenance of group ${group}`;
    core.event({
      type: 'intent',
      ...(group !== null ? { group } : {}),
      message: `${what} ${on ? 'on' : 'off'} requested`,
      details: { maintenance: on },
    });
    core.kick();
  }

  async suspendMonitor(name: string): Promise<void> {
    const key = this.monitors.keyOf(name);
    await this.core.writeIntent({ [intentKeys.suspended(key)]: true });
    this.core.event({ type: 'intent', monitor: key, message: `monitor ${key} suspended` });
  }

  async resumeMonitor(name: string): Promise<void> {
    const key = this.monitors.keyOf(name);
    await this.core.writeIntent({ [intentKeys.suspended(key)]: false });
    this.core.event({ type: 'intent', monitor: key, message: `monitor ${key} resumed` });
  }

  async clearFailures(group: string): Promise<void> {
    const { core } = this;
    const g = core.group(group);
    const entries = clearFailuresEntries(core.intent(), group);
    if (Object.keys(entries).length > 0) await core.writeIntent(entries);
    g.state.clearFailedStop();
    core.event({ type: 'intent', group, message: `failures of ${group} cleared` });
    core.kick();
  }
}
