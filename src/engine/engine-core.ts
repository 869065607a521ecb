import type { GroupConfig, HaloConfig, MonitorConfig, ResourceConfig } from '../config/model.js';
import type { Coordinator } from '../coordination/types.js';
import { HaloError } from '../errors.js';
import { childLogger, type Logger } from '../log.js';
import type { EventInput, EventLog, TimelineRecorder } from './event-log.js';
import { expireFailures, type FailureExpiry } from './failure-expiry.js';
import type { FenceDevice, FenceDeviceContext } from './fencing/types.js';
import type { GroupSlot } from './group-state.js';
import { type ParsedIntent, parseIntent } from './intent.js';
import type { MonitorInstance } from './monitors/types.js';
import type { ParamSpec } from './param-changes.js';
import type { ResourceSlot } from './resource-slot.js';
import type { ResourceContext, ResourceInstance } from './resources/types.js';
import type { Timers } from './timers.js';

/** Kept for callers written against the optional form; every backend now has `abandon`. */
export type AbandoningCoordinator = Coordinator;

export interface EngineOptions {
  config: HaloConfig;
  /** This node's name (one of config.nodes). */
  node: string;
  coordinator: AbandoningCoordinator;
  resources: (group: GroupConfig, resource: ResourceConfig) => ResourceInstance;
  /** `group` is null for node-level monitors. */
  monitors: (monitor: MonitorConfig, group: GroupConfig | null) => MonitorInstance;
  /** Schema and modes of a resource type's parameters, for setParams(). */
  resourceTypes?: (type: string) => ParamSpec | undefined;
  eventLog: EventLog;
  timers: Timers;
  log: Logger;
  stateDir: string;
  agentHealth?: () => { eventLoopLagMs: number; lastTickAgoMs: number };
  /** The fence device of a `fencing: stonith` group; default: the built-in device its config names. */
  fenceDevice?: (group: GroupConfig, ctx: FenceDeviceContext) => FenceDevice;
  /** Delay before retrying actions that failed (e.g. an intent write without quorum); default 1000. */
  retryMs?: number;
}

/**
 * The state the engine's collaborators (group operations, monitors, admin) share, and the small
 * helpers they all use. The reconcile loop itself stays in `Engine`, which hands in `kick`.
 */
export class EngineCore {
  readonly opts: EngineOptions;
  readonly groups = new Map<string, GroupSlot>();
  timelines: TimelineRecorder | null = null;
  running = false;
  /** Asks the engine for a reconcile soon (coalesced; a no-op while not running). */
  readonly kick: () => void;

  private failuresCache: { source: object; groups: object; value: FailureExpiry } | null = null;

  constructor(opts: EngineOptions, kick: () => void) {
    this.opts = opts;
    this.kick = kick;
  }

  event(input: EventInput): void {
    this.opts.eventLog.append(input);
  }

  /** The admin intent as the scheduler counts it: failure marks past their failureTimeout expired. */
  intent(): ParsedIntent {
    return this.failures().intent;
  }

  /**
   * `intent()` and when its next failure mark expires (wall ms), so the engine can wake then.
   * Kept until the coordinator's intent object, the groups or the next expiry change: every
   * coordinator hands out a new object when the intent changes, and the engine asks once per
   * group per event, which with N groups made each event cost O(N²).
   */
  failures(): FailureExpiry {
    const source = this.opts.coordinator.intent();
    const groups = this.opts.config.groups;
    const now = this.opts.timers.wallNow();
    const c = this.failuresCache;
    if (
      c &&
      c.source === source &&
      c.groups === groups &&
      (c.value.nextExpiryAt === null || now < c.value.nextExpiryAt)
    )
      return c.value;
    const value = expireFailures(parseIntent(source), groups, now);
    this.failuresCache = { source, groups, value };
    return value;
  }

  async writeIntent(entries: Record<string, unknown>): Promise<void> {
    await this.opts.coordinator.updateIntent(entries);
    this.kick();
  }

  ownerOf(g: GroupSlot): string | null {
    return g.state.ownerSeenBy(this.opts.node);
  }

  group(name: string): GroupSlot {
    const g = this.groups.get(name);
    if (!g) throw new HaloError('HALO_E_NOT_FOUND', `no group ${name}`, { group: name });
    return g;
  }

  resource(group: string, name: string): ResourceSlot {
    const r = this.group(group).resources.get(name);
    if (!r)
      throw new HaloError('HALO_E_NOT_FOUND', `no resource ${name} in group ${group}`, {
        group,
        resource: name,
      });
    return r;
  }

  resourceContext(g: GroupSlot, resource: string, term: string, signal: AbortSignal): ResourceContext {
    return {
      cluster: this.opts.config.cluster.name,
      node: this.opts.node,
      group: g.config.name,
      resource,
      term,
      signal,
      log: childLogger(this.opts.log, { group: g.config.name, resource }),
      stateDir: this.opts.stateDir,
    };
  }

  replaceInstance(g: GroupSlot, r: ResourceSlot, params: Record<string, unknown>): void {
    r.replaceParams(params, (config) => this.opts.resources(g.config, config));
  }

  /** Sends the group's candidacy to the coordinator when its rank changed. */
  setRank(g: GroupSlot, rank: number | null): void {
    if (g.state.setRank(rank)) this.opts.coordinator.setCandidacy(g.config.name, rank);
  }

  /** Closes the group's failover timeline once it is started and healthy (at most once). */
  finishHealthy(g: GroupSlot): void {
    const name = g.config.name;
    if (!this.timelines?.has(name, 'started') || this.timelines.has(name, 'healthy')) return;
    this.timelines.mark(name, 'healthy', 'activation');
    this.timelines.finish(name);
  }
}
