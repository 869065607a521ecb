import type { ConfigDiff } from '../config/config-diff.js';
import type { HaloConfig } from '../config/model.js';
import type { CoordinatorEvent } from '../coordination/types.js';
import { EngineAdmin, type StandbyOutcome } from './engine-admin.js';
import { EngineCore, type EngineOptions } from './engine-core.js';
import { type CleanupResult, EngineFailures } from './engine-failures.js';
import { EngineGroups } from './engine-groups.js';
import { EngineMaintenance } from './engine-maintenance.js';
import { EngineMonitors } from './engine-monitors.js';
import { EngineParams } from './engine-params.js';
import { EngineProbes } from './engine-probes.js';
import { EngineReload, type ReloadMode, type ReloadReport } from './engine-reload.js';
import { type EngineStatus, groupStatus, monitorStatuses } from './engine-status.js';
import { TimelineRecorder } from './event-log.js';
import type { GroupSlot } from './group-state.js';
import { groupIntent, inMaintenance, type ParsedIntent } from './intent.js';
import { type Action, type Snapshot, schedule } from './scheduler.js';
import { errorText } from './timers.js';

export type { StandbyOutcome } from './engine-admin.js';
export type { AbandoningCoordinator, EngineOptions } from './engine-core.js';
export type { CleanupResult } from './engine-failures.js';
export type { ReloadMode, ReloadReport } from './engine-reload.js';
export type {
  EngineStatus,
  GroupStatus,
  MonitorState,
  MonitorStatus,
  ResourceStatus,
} from './engine-status.js';
export type { ParamSpec } from './param-changes.js';

/**
 * The group engine: the I/O shell around the pure scheduler. It turns coordinator events and
 * monitor results into a snapshot, runs `schedule()`, and executes the resulting actions one
 * group at a time (a group's next actions wait until its current ones finished).
 *
 * The work is split among collaborators sharing one `EngineCore`: `EngineGroups` executes
 * actions on a group, `EngineMonitors` runs monitors and the recovery ladder, `EngineAdmin`
 * handles operator requests. The engine itself owns the lifecycle and the reconcile loop.
 */
export class Engine {
  private readonly core: EngineCore;
  private readonly monitors: EngineMonitors;
  private readonly ops: EngineGroups;
  private readonly admin: EngineAdmin;
  private readonly probes: EngineProbes;
  private readonly params: EngineParams;
  private readonly failures: EngineFailures;
  private readonly reloader: EngineReload;
  private readonly maintenance: EngineMaintenance;
  private unsubscribe: (() => void) | null = null;
  private kickQueued = false;
  private cancelRetry: (() => void) | null = null;

  constructor(opts: EngineOptions) {
    this.core = new EngineCore(opts, () => this.kick());
    this.monitors = new EngineMonitors(this.core);
    this.params = new EngineParams(this.core);
    this.ops = new EngineGroups(this.core, this.monitors, this.params);
    this.probes = new EngineProbes(this.core, this.ops);
    this.failures = new EngineFailures(this.core, this.monitors, this.probes);
    this.reloader = new EngineReload(this.core, this.monitors, this.params);
    this.maintenance = new EngineMaintenance(this.core, this.ops, this.probes);
    this.admin = new EngineAdmin(this.core, this.monitors, (intent) => this.snapshot(intent));
  }

  async start(): Promise<void> {
    const { core } = this;
    const { config, timers } = core.opts;
    core.timelines = new TimelineRecorder(core.opts.eventLog, core.opts.node, timers);
    for (const group of config.groups) core.groups.set(group.name, this.ops.create(group));
    for (const m of config.monitors) this.monitors.create(m, null);
    for (const g of core.groups.values()) for (const m of g.config.monitors) this.monitors.create(m, g);
    core.running = true;
    // Before any start: the first start of each resource uses the accepted parameters.
    this.params.sync();
    this.failures.prime(core.intent());
    this.maintenance.observe(core.intent());
    this.unsubscribe = core.opts.coordinator.on((event) => this.onCoordinatorEvent(event));
    this.monitors.pushNodeStatus();
    core.event({ type: 'agent', message: `engine started with ${core.groups.size} groups` });
    // Probes first: each group's probe holds its chain, so nothing starts before it answered.
    this.probes.start();
    this.kick();
  }

  /** Stops every local group in reverse config order and releases its lease. */
  async stop(): Promise<void> {
    const { core } = this;
    if (!core.running) return;
    core.running = false;
    this.cancelRetry?.();
    this.failures.stop();
    this.ops.fencing.stop();
    this.probes.stop();
    for (const g of core.groups.values()) if (!g.state.held) core.setRank(g, null);
    await this.monitors.stopAll();
    for (const g of [...core.groups.values()].reverse()) {
      g.state.abortStart(new Error('agent stopping'));
      await g.state.chain;
      // Unmanaged: left running, and its lease to run out (a release would vouch it stopped).
      if (inMaintenance(core.intent(), g.config.name)) continue;
      const { phase, held } = g.state;
      if (phase === 'running') await this.ops.stopNow(g, held ? 'release' : 'hold', 'agent stopping');
      else if (phase === 'stopped' && held) await this.ops.releaseNow(g, 'agent stopping');
      if (g.state.phase !== 'failed-stop') core.setRank(g, null);
    }
    this.unsubscribe?.();
    core.event({ type: 'agent', message: 'engine stopped' });
  }

  // ---- admin ------------------------------------------------------------------------------

  move(group: string, to?: string): Promise<{ to: string }> {
    return this.admin.move(group, to);
  }

  /**
   * Starts the group (on `on` if given). It also clears the group's failure marks, as it did
   * before `cleanup` existed, so every node may try again.
   */
  startGroup(group: string, on?: string): Promise<void> {
    return this.admin.startGroup(group, on);
  }

  stopGroup(group: string): Promise<void> {
    return this.admin.stopGroup(group);
  }

  /**
   * `halo config apply`: takes `next`, whose coordination part equals the running one
   * (`diff.needsRestart` is empty), without stopping what the change does not touch.
   */
  reload(next: HaloConfig, diff: ConfigDiff, mode: ReloadMode): Promise<ReloadReport> {
    return this.reloader.apply(next, diff, mode);
  }

  /** Resolves once the restarts the reloads so far asked for are done. */
  reloadSettled(): Promise<void> {
    return this.reloader.settled();
  }

  /** Node standby (`halo node standby|unstandby`): cluster intent, see scheduler.ts drainTurn. */
  setStandby(node: string, standby: boolean): Promise<StandbyOutcome> {
    return this.admin.setStandby(node, standby);
  }

  /**
   * Maintenance mode (unmanaged) of `group`, or of the whole cluster when null: resources are
   * left as they are, by the engine and by the deadman; leaving it probes first.
   */
  setMaintenance(group: string | null, on: boolean): Promise<void> {
    return this.admin.setMaintenance(group, on);
  }

  /** `name` is the monitor key (`group/monitor` or a node-level name) or a unique bare name. */
  suspendMonitor(name: string): Promise<void> {
    return this.admin.suspendMonitor(name);
  }

  resumeMonitor(name: string): Promise<void> {
    return this.admin.resumeMonitor(name);
  }

  /**
   * Clears the group's failure marks on every node. A local failed stop is also cleared
   * (the operator vouches the resources are down) once this node no longer holds the lease.
   */
  clearFailures(group: string): Promise<void> {
    return this.admin.clearFailures(group);
  }

  /**
   * `halo cleanup`: clears the group's failure marks (only `node`'s, when given); every node
   * concerned resets the failure counters of the group's monitors (only those watching
   * `resource`, when given), clears a failed stop, and probes the group again.
   */
  cleanup(group: string, opts: { resource?: string; node?: string } = {}): Promise<CleanupResult> {
    return this.failures.cleanup(group, opts);
  }

  /** The parameters in effect where the resource runs and those pending; the same on every node. */
  getParams(
    group: string,
    resource: string,
  ): { params: Record<string, unknown>; pending: Record<string, unknown> } {
    return this.params.view(group, resource);
  }

  /**
   * Validates `changes` with the resource type's schema and stores them as cluster state
   * (resolves once a majority has them). The node running the resource applies `live`
   * parameters at once and keeps `restart` parameters pending until the resource next starts,
   * on any node; where it does not run, every change applies at its next start.
   */
  setParams(
    group: string,
    resource: string,
    changes: Record<string, unknown>,
  ): Promise<{ live: string[]; pending: string[] }> {
    return this.params.set(group, resource, changes);
  }

  // ---- status -----------------------------------------------------------------------------

  status(): EngineStatus {
    const { core } = this;
    const intent = core.intent();
    const pendingOf = this.params.pendingOf();
    return {
      node: core.opts.node,
      eligible: this.monitors.eligible,
      ineligibleReasons: this.monitors.ineligibleReasons,
      standbyNodes: [...intent.standbyNodes],
      maintenance: intent.maintenance,
      groups: [...core.groups.values()].map((g) =>
        groupStatus(
          g,
          intent,
          core.ownerOf(g),
          this.monitors.views(),
          core.timelines?.last(g.config.name) ?? null,
          this.ops.fencing.state(g.config.name),
          pendingOf,
        ),
      ),
      monitors: monitorStatuses(this.monitors.views(), intent, null),
    };
  }

  // ---- reconcile loop ---------------------------------------------------------------------

  private kick(): void {
    if (this.kickQueued || !this.core.running) return;
    this.kickQueued = true;
    queueMicrotask(() => {
      this.kickQueued = false;
      this.reconcile();
    });
  }

  private retryLater(): void {
    if (this.cancelRetry) return;
    const { timers, retryMs } = this.core.opts;
    this.cancelRetry = timers.setTimeout(() => {
      this.cancelRetry = null;
      this.kick();
    }, retryMs ?? 1000);
  }

  private reconcile(): void {
    const { core } = this;
    if (!core.running) return;
    const { intent, nextExpiryAt } = core.failures();
    this.maintenance.observe(intent);
    const actions = schedule(this.snapshot(intent));
    const byGroup = new Map<GroupSlot, Action[]>();
    for (const action of actions) {
      const g = core.groups.get(action.group);
      if (!g) continue;
      if (action.type === 'candidacy') {
        core.setRank(g, action.rank);
        continue;
      }
      byGroup.set(g, [...(byGroup.get(g) ?? []), action]);
    }
    for (const [g, list] of byGroup) {
      if (g.state.chain) continue;
      const signature = JSON.stringify(list);
      const now = core.opts.timers.now();
      if (g.state.repeatsTooSoon(signature, now, core.opts.retryMs ?? 1000)) {
        this.retryLater();
        continue;
      }
      g.state.beginChain(signature, now, () =>
        this.ops.execute(g, list).then(
          () => {
            g.state.endChain();
            this.kick();
          },
          (err: unknown) => {
            g.state.endChain(errorText(err));
            core.opts.log.warn({ err, group: g.config.name }, 'group action failed; will retry');
            this.retryLater();
          },
        ),
      );
    }
    this.monitors.update();
    this.failures.observe(intent, nextExpiryAt);
  }

  private snapshot(intent: ParsedIntent): Snapshot {
    const { core } = this;
    const self = core.opts.node;
    const view = core.opts.coordinator.view();
    const members = view.members
      .filter((m) => m.kind === 'node' && m.name !== self)
      .map((m) => ({ name: m.name, up: m.up, eligible: m.eligible }));
    members.push({ name: self, up: true, eligible: this.monitors.eligible });
    const owners: Snapshot['owners'] = {};
    const phases: Snapshot['phases'] = {};
    const requests: Snapshot['requests'] = {};
    for (const [name, g] of core.groups) {
      if (groupIntent(intent, name).failed.includes(self)) g.state.keepOnlyRestarts();
      owners[name] = core.ownerOf(g);
      phases[name] = g.state.phase;
      requests[name] = g.state.requests;
    }
    return {
      self,
      groups: core.opts.config.groups,
      intent,
      members,
      owners,
      phases,
      requests,
      unprobed: this.probes.unprobed(),
    };
  }

  // ---- coordinator events -----------------------------------------------------------------

  private onCoordinatorEvent(event: CoordinatorEvent): void {
    const { core } = this;
    if (event.type === 'intent') this.params.sync();
    if (event.type === 'acquired' || event.type === 'demote' || event.type === 'owner') {
      const g = core.groups.get(event.group);
      if (!g) return;
      if (event.type === 'acquired') {
        g.state.acquired(event.term);
        core.timelines?.mark(event.group, 'lease-granted', 'lease granted');
        core.event({
          type: 'lease',
          group: event.group,
          message: `lease of ${event.group} acquired (term ${event.term})`,
        });
      } else if (event.type === 'demote') {
        // A start in progress is cut short; the scheduler then stops the group without release.
        g.state.demoted(event.reason);
        core.event({
          type: 'lease',
          level: 'warn',
          group: event.group,
          message: `lease of ${event.group} lost: ${event.reason}`,
        });
      } else {
        g.state.sawHolder(event.owner, event.term);
        // After a failed stop the abandoned lease runs out without a demote; then clearFailures
        // may proceed.
        if (g.state.ownerChanged(event.owner, core.opts.node)) {
          core.event({
            type: 'lease',
            level: 'warn',
            group: event.group,
            message: `lease of ${event.group} ran out after the failed stop`,
          });
        }
      }
    }
    core.kick();
  }
}
