import type { GroupConfig, HaloConfig, MonitorConfig, ResourceConfig } from '../config/model.js';
import type { Coordinator, CoordinatorEvent } from '../coordination/types.js';
import { HaloError } from '../errors.js';
import type { Logger } from '../log.js';
import {
  type EngineStatus,
  type GroupSlot,
  groupStatus,
  type MonitorSlot,
  monitorStatuses,
  type ResourceSlot,
} from './engine-status.js';
import { type EventInput, type EventLog, TimelineRecorder } from './event-log.js';
import { type GroupOpResult, GroupRunner, opTimeouts } from './group-runner.js';
import {
  clearFailuresEntries,
  groupIntent,
  intentKeys,
  monitorKey,
  type ParsedIntent,
  parseIntent,
} from './intent.js';
import { MonitorRunner, type ProbeReport } from './monitor-runner.js';
import type { MonitorContext, MonitorInstance } from './monitors/types.js';
import { type ParamSpec, validateParamChanges } from './param-changes.js';
import { INITIAL_LADDER, stepLadder } from './recovery.js';
import type { CheckResult, ResourceContext, ResourceInstance } from './resources/types.js';
import { type Action, type LocalPhase, rankCandidates, type Snapshot, schedule } from './scheduler.js';
import { errorText, runWithTimeout, type Timers } from './timers.js';

export type {
  EngineStatus,
  GroupStatus,
  MonitorState,
  MonitorStatus,
  ResourceStatus,
} from './engine-status.js';
export type { ParamSpec } from './param-changes.js';

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
  /** Delay before retrying actions that failed (e.g. an intent write without quorum); default 1000. */
  retryMs?: number;
}

/**
 * The group engine: the I/O shell around the pure scheduler. It turns coordinator events and
 * monitor results into a snapshot, runs `schedule()`, and executes the resulting actions one
 * group at a time (a group's next actions wait until its current ones finished).
 */
export class Engine {
  private readonly opts: EngineOptions;
  private readonly groups = new Map<string, GroupSlot>();
  private readonly monitorSlots = new Map<string, MonitorSlot>();
  private readonly ineligible = new Map<string, string>();
  private timelines: TimelineRecorder | null = null;
  private unsubscribe: (() => void) | null = null;
  private running = false;
  private kickQueued = false;
  private cancelRetry: (() => void) | null = null;

  constructor(opts: EngineOptions) {
    this.opts = opts;
  }

  async start(): Promise<void> {
    const { config, timers } = this.opts;
    this.timelines = new TimelineRecorder(this.opts.eventLog, this.opts.node, timers);
    for (const group of config.groups) this.groups.set(group.name, this.createGroup(group));
    for (const m of config.monitors) this.createMonitor(m, null);
    for (const g of this.groups.values()) for (const m of g.config.monitors) this.createMonitor(m, g);
    this.running = true;
    this.unsubscribe = this.opts.coordinator.on((event) => this.onCoordinatorEvent(event));
    this.pushNodeStatus();
    this.event({ type: 'agent', message: `engine started with ${this.groups.size} groups` });
    this.kick();
  }

  /** Stops every local group in reverse config order and releases its lease. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.cancelRetry?.();
    for (const g of this.groups.values()) if (!g.held) this.setRank(g, null);
    await Promise.all([...this.monitorSlots.values()].map((m) => m.runner.stop()));
    for (const g of [...this.groups.values()].reverse()) {
      g.abort?.abort(new Error('agent stopping'));
      await g.chain;
      if (g.phase === 'running') await this.stopGroupNow(g, g.held ? 'release' : 'hold', 'agent stopping');
      else if (g.phase === 'stopped' && g.held) await this.releaseNow(g, 'agent stopping');
      if (g.phase !== 'failed-stop') this.setRank(g, null);
    }
    this.unsubscribe?.();
    this.event({ type: 'agent', message: 'engine stopped' });
  }

  // ---- admin ------------------------------------------------------------------------------

  async move(group: string, to?: string): Promise<{ to: string }> {
    const g = this.group(group);
    const intent = this.intent();
    let target = to;
    if (target !== undefined && !g.config.nodes.includes(target)) {
      throw new HaloError('HALO_E_BAD_REQUEST', `node ${target} is not one of the nodes of group ${group}`, {
        group,
        nodes: g.config.nodes,
      });
    }
    if (target === undefined) {
      const gi = { ...groupIntent(intent, group), preferred: null };
      const owner = this.ownerOf(g);
      target = rankCandidates(this.snapshot(intent), g.config, gi, owner).candidates.find((n) => n !== owner);
      if (target === undefined) {
        throw new HaloError('HALO_E_CONFLICT', `no other node can take group ${group} now`, { group, owner });
      }
    }
    await this.writeIntent({
      [intentKeys.preferred(group)]: target,
      [intentKeys.failed(group, target)]: false,
      [intentKeys.state(group)]: 'started',
    });
    this.event({ type: 'intent', group, message: `move of ${group} to ${target} requested` });
    return { to: target };
  }

  /** Starts the group (on `on` if given); clears its failure marks so every node may try again. */
  async startGroup(group: string, on?: string): Promise<void> {
    const g = this.group(group);
    if (on !== undefined && !g.config.nodes.includes(on)) {
      throw new HaloError('HALO_E_BAD_REQUEST', `node ${on} is not one of the nodes of group ${group}`, {
        group,
      });
    }
    await this.writeIntent({
      ...clearFailuresEntries(this.intent(), group),
      [intentKeys.state(group)]: 'started',
      ...(on !== undefined ? { [intentKeys.preferred(group)]: on } : {}),
    });
    this.event({ type: 'intent', group, message: `start of ${group} requested${on ? ` on ${on}` : ''}` });
  }

  async stopGroup(group: string): Promise<void> {
    this.group(group);
    await this.writeIntent({ [intentKeys.state(group)]: 'stopped' });
    this.event({ type: 'intent', group, message: `stop of ${group} requested` });
  }

  /** `name` is the monitor key (`group/monitor` or a node-level name) or a unique bare name. */
  async suspendMonitor(name: string): Promise<void> {
    const key = this.monitorKeyOf(name);
    await this.writeIntent({ [intentKeys.suspended(key)]: true });
    this.event({ type: 'intent', monitor: key, message: `monitor ${key} suspended` });
  }

  async resumeMonitor(name: string): Promise<void> {
    const key = this.monitorKeyOf(name);
    await this.writeIntent({ [intentKeys.suspended(key)]: false });
    this.event({ type: 'intent', monitor: key, message: `monitor ${key} resumed` });
  }

  /**
   * Clears the group's failure marks on every node. A local failed stop is also cleared
   * (the operator vouches the resources are down) once this node no longer holds the lease.
   */
  async clearFailures(group: string): Promise<void> {
    const g = this.group(group);
    const entries = clearFailuresEntries(this.intent(), group);
    if (Object.keys(entries).length > 0) await this.writeIntent(entries);
    if (g.phase === 'failed-stop' && !g.held) this.setPhase(g, 'stopped');
    this.event({ type: 'intent', group, message: `failures of ${group} cleared` });
    this.kick();
  }

  getParams(
    group: string,
    resource: string,
  ): { params: Record<string, unknown>; pending: Record<string, unknown> } {
    const r = this.resource(group, resource);
    return { params: { ...r.config.params }, pending: { ...r.pending } };
  }

  /**
   * Validates `changes` with the resource type's schema, applies `live` parameters at once
   * (applyLive on a running resource) and keeps `restart` parameters pending until the
   * resource next starts. On a resource that is not running every change applies at once.
   * Node-local and not persisted: the config file stays the source of truth.
   */
  async setParams(
    group: string,
    resource: string,
    changes: Record<string, unknown>,
  ): Promise<{ live: string[]; pending: string[] }> {
    const g = this.group(group);
    const r = this.resource(group, resource);
    const values = validateParamChanges(r.config, this.opts.resourceTypes?.(r.config.type), changes);
    const keys = Object.keys(values);
    const modes = this.opts.resourceTypes?.(r.config.type)?.paramModes ?? {};
    if (r.state === 'stopped') {
      this.replaceInstance(g, r, { ...r.config.params, ...values });
      this.event({
        type: 'params',
        group,
        resource,
        message: `parameters ${keys.join(', ')} changed`,
        details: { keys },
      });
      return { live: keys, pending: [] };
    }
    let live = keys.filter((k) => modes[k] === 'live');
    if (live.length > 0 && r.instance.applyLive) {
      const liveValues = Object.fromEntries(live.map((k) => [k, values[k]]));
      const outcome = await runWithTimeout(
        this.opts.timers,
        opTimeouts(r.config).check,
        undefined,
        (signal) =>
          r.instance.applyLive!(liveValues, this.resourceContext(g, resource, g.term ?? '', signal)),
      );
      if (outcome.status !== 'done') {
        const reason = outcome.status === 'error' ? errorText(outcome.error) : outcome.status;
        throw new HaloError(
          'HALO_E_RESOURCE_FAILED',
          `applying ${live.join(', ')} to ${group}/${resource} failed: ${reason}`,
          {
            group,
            resource,
          },
        );
      }
      r.config = { ...r.config, params: { ...r.config.params, ...liveValues } };
    } else {
      live = [];
    }
    const pending = keys.filter((k) => !live.includes(k));
    for (const k of pending) r.pending[k] = values[k];
    this.event({
      type: 'params',
      group,
      resource,
      message: `parameters changed: live ${live.join(', ') || '-'}; pending until restart ${pending.join(', ') || '-'}`,
      details: { live, pending },
    });
    return { live, pending };
  }

  // ---- status -----------------------------------------------------------------------------

  status(): EngineStatus {
    const intent = this.intent();
    return {
      node: this.opts.node,
      eligible: this.ineligible.size === 0,
      ineligibleReasons: [...this.ineligible.values()],
      groups: [...this.groups.values()].map((g) =>
        groupStatus(
          g,
          intent,
          this.ownerOf(g),
          this.monitorSlots.values(),
          this.timelines?.last(g.config.name) ?? null,
        ),
      ),
      monitors: monitorStatuses(this.monitorSlots.values(), intent, null),
    };
  }

  private kick(): void {
    if (this.kickQueued || !this.running) return;
    this.kickQueued = true;
    queueMicrotask(() => {
      this.kickQueued = false;
      this.reconcile();
    });
  }

  private retryLater(): void {
    if (this.cancelRetry) return;
    this.cancelRetry = this.opts.timers.setTimeout(() => {
      this.cancelRetry = null;
      this.kick();
    }, this.opts.retryMs ?? 1000);
  }

  private reconcile(): void {
    if (!this.running) return;
    const actions = schedule(this.snapshot(this.intent()));
    const byGroup = new Map<GroupSlot, Action[]>();
    for (const action of actions) {
      const g = this.groups.get(action.group);
      if (!g) continue;
      if (action.type === 'candidacy') {
        this.setRank(g, action.rank);
        continue;
      }
      byGroup.set(g, [...(byGroup.get(g) ?? []), action]);
    }
    for (const [g, list] of byGroup) {
      if (g.chain) continue;
      const signature = JSON.stringify(list);
      const now = this.opts.timers.now();
      // The same actions again right after they ran means the world has not caught up yet
      // (e.g. an intent write not yet visible); wait instead of spinning.
      if (g.lastChain?.signature === signature && now - g.lastChain.at < (this.opts.retryMs ?? 1000)) {
        this.retryLater();
        continue;
      }
      g.lastChain = { signature, at: now };
      // chain is cleared before the next kick so the follow-up reconcile sees the group idle.
      g.chain = this.execute(g, list).then(
        () => {
          g.chain = null;
          this.kick();
        },
        (err: unknown) => {
          g.chain = null;
          g.lastError = errorText(err);
          this.opts.log.warn({ err, group: g.config.name }, 'group action failed; will retry');
          this.retryLater();
        },
      );
    }
    this.updateMonitors();
  }

  private snapshot(intent: ParsedIntent): Snapshot {
    const self = this.opts.node;
    const view = this.opts.coordinator.view();
    const members = view.members
      .filter((m) => m.kind === 'node' && m.name !== self)
      .map((m) => ({ name: m.name, up: m.up, eligible: m.eligible }));
    members.push({ name: self, up: true, eligible: this.ineligible.size === 0 });
    const owners: Snapshot['owners'] = {};
    const phases: Snapshot['phases'] = {};
    const requests: Snapshot['requests'] = {};
    for (const [name, g] of this.groups) {
      if (groupIntent(intent, name).failed.includes(self))
        g.requests = g.requests.filter((r) => r.kind === 'restart');
      owners[name] = this.ownerOf(g);
      phases[name] = g.phase;
      requests[name] = g.requests;
    }
    return { self, groups: this.opts.config.groups, intent, members, owners, phases, requests };
  }

  private async execute(g: GroupSlot, actions: Action[]): Promise<void> {
    for (const action of actions) {
      if (!this.running) return;
      switch (action.type) {
        case 'start-group':
          await this.startGroupNow(g);
          break;
        case 'stop-group':
          await this.stopGroupNow(g, action.then, action.reason);
          break;
        case 'release':
          await this.releaseNow(g, action.reason);
          break;
        case 'restart-resource':
          await this.restartNow(g, action.resource, action.monitor);
          break;
        case 'mark-failed':
          await this.writeIntent({
            [intentKeys.failed(action.group, action.node)]: true,
            [intentKeys.failedReason(action.group, action.node)]: action.reason,
          });
          g.requests = g.requests.filter((r) => r.kind === 'restart');
          this.event({
            type: 'group',
            level: 'warn',
            group: action.group,
            message: `${action.node} marked failed: ${action.reason}`,
          });
          break;
        case 'clear-preferred':
          await this.writeIntent({ [intentKeys.preferred(action.group)]: null });
          break;
        case 'alert':
          this.event({ type: 'alert', level: 'error', group: action.group, message: action.message });
          break;
        case 'candidacy':
          break;
      }
    }
  }

  // ---- group operations -------------------------------------------------------------------

  private async startGroupNow(g: GroupSlot): Promise<void> {
    const name = g.config.name;
    const term = g.term ?? '';
    this.setPhase(g, 'starting');
    g.abort = new AbortController();
    this.refreshFence(g);
    this.event({ type: 'group', group: name, message: `starting ${name} (term ${term})` });
    const result = await g.runner.start(term, g.abort.signal);
    g.abort = null;
    if (result.status === 'ok') {
      // Resources know their full environment (term, node) only once started: re-arm the deadman.
      this.refreshFence(g);
      this.setPhase(g, 'running');
      g.lastError = null;
      for (const m of this.monitorSlots.values()) if (m.group === g) m.ladder = INITIAL_LADDER;
      this.event({ type: 'group', group: name, message: `${name} started` });
      this.timelines?.mark(name, 'started', 'activation');
      if (g.config.monitors.length === 0) this.finishHealthy(g);
      return;
    }
    if (result.status === 'stop-failed') return this.failedStop(g, result);
    this.setPhase(g, 'stopped');
    this.clearFence(g);
    g.lastError = `${result.resource}: ${result.reason}`;
    this.event({
      type: 'group',
      level: result.aborted ? 'warn' : 'error',
      group: name,
      resource: result.resource,
      message: result.aborted
        ? `start of ${name} aborted`
        : `start of ${name} failed at ${result.resource}: ${result.reason}`,
      ...(result.output !== undefined ? { output: result.output } : {}),
    });
    if (!result.aborted)
      g.requests.push({ kind: 'start-failed', reason: `${result.resource}: ${result.reason}` });
    this.timelines?.mark(name, 'stopped', 'start failed');
    this.timelines?.finish(name);
  }

  private async stopGroupNow(g: GroupSlot, then: 'release' | 'hold', reason: string): Promise<void> {
    const name = g.config.name;
    this.timelines?.mark(name, 'decided', reason);
    this.setPhase(g, 'stopping');
    this.updateMonitors();
    this.event({ type: 'group', group: name, message: `stopping ${name}: ${reason}` });
    const result = await g.runner.stop(g.term ?? '');
    if (result.status !== 'ok') return this.failedStop(g, result);
    this.setPhase(g, 'stopped');
    this.clearFence(g);
    g.requests = g.requests.filter((r) => r.kind !== 'restart');
    this.event({ type: 'group', group: name, message: `${name} stopped` });
    this.timelines?.mark(name, 'stopped', reason);
    if (then === 'release' && g.held) await this.releaseNow(g, reason);
    this.timelines?.finish(name);
  }

  private async releaseNow(g: GroupSlot, reason: string): Promise<void> {
    if (!g.held) return;
    await this.opts.coordinator.release(g.config.name);
    g.held = false;
    g.term = null;
    // A release also drops the backend's candidacy: make the next reconcile send it again.
    g.rank = undefined;
    this.event({
      type: 'lease',
      group: g.config.name,
      message: `lease of ${g.config.name} released: ${reason}`,
    });
  }

  private async restartNow(g: GroupSlot, resource: string, monitor: string): Promise<void> {
    const name = g.config.name;
    g.restarting = true;
    this.updateMonitors();
    this.event({
      type: 'recovery',
      group: name,
      resource,
      monitor,
      message: `restarting ${resource} for monitor ${monitor}`,
    });
    const result = await g.runner.restart(resource, g.term ?? '');
    g.restarting = false;
    g.requests = g.requests.filter((r) => !(r.kind === 'restart' && r.resource === resource));
    if (result.status === 'stop-failed') return this.failedStop(g, result);
    if (result.status === 'start-failed') {
      const reason = `restart of ${resource} failed: ${result.reason}`;
      g.requests.push({ kind: 'failover', monitor, reason });
      this.event({
        type: 'recovery',
        level: 'error',
        group: name,
        resource,
        message: reason,
        ...outputField(result),
      });
      return;
    }
    this.event({ type: 'recovery', group: name, resource, message: `${resource} restarted` });
    this.updateMonitors();
  }

  /** Never release: the lease must run out so the deadman acts before anyone else starts the group. */
  private failedStop(g: GroupSlot, result: Exclude<GroupOpResult, { status: 'ok' }>): void {
    this.setPhase(g, 'failed-stop');
    this.setRank(g, null);
    this.opts.coordinator.abandon(g.config.name);
    g.lastError = `${result.resource}: ${result.reason}`;
    this.event({
      type: 'alert',
      level: 'error',
      group: g.config.name,
      resource: result.resource,
      message: `stop of ${result.resource} failed (${result.reason}); letting the lease run out so the deadman stops the group`,
      ...outputField(result),
    });
    this.timelines?.abandon(g.config.name);
  }

  private finishHealthy(g: GroupSlot): void {
    const name = g.config.name;
    if (!this.timelines?.has(name, 'started') || this.timelines.has(name, 'healthy')) return;
    this.timelines.mark(name, 'healthy', 'activation');
    this.timelines.finish(name);
  }

  private setPhase(g: GroupSlot, phase: LocalPhase): void {
    if (g.phase === phase) return;
    g.phase = phase;
    g.since = this.opts.timers.wallNow();
  }

  private setRank(g: GroupSlot, rank: number | null): void {
    if (g.rank === rank) return;
    g.rank = rank;
    this.opts.coordinator.setCandidacy(g.config.name, rank);
  }

  private refreshFence(g: GroupSlot): void {
    const actions = [...g.resources.values()].reverse().flatMap((r) => r.instance.fenceActions());
    this.opts.coordinator.setFenceActions(g.config.name, actions);
  }

  private clearFence(g: GroupSlot): void {
    this.opts.coordinator.setFenceActions(g.config.name, []);
  }

  // ---- coordinator events -----------------------------------------------------------------

  private onCoordinatorEvent(event: CoordinatorEvent): void {
    if (event.type === 'acquired' || event.type === 'demote' || event.type === 'owner') {
      const g = this.groups.get(event.group);
      if (!g) return;
      if (event.type === 'acquired') {
        g.held = true;
        g.term = event.term;
        this.timelines?.mark(event.group, 'lease-granted', 'lease granted');
        this.event({
          type: 'lease',
          group: event.group,
          message: `lease of ${event.group} acquired (term ${event.term})`,
        });
      } else if (event.type === 'demote') {
        g.held = false;
        // A start in progress is cut short; the scheduler then stops the group without release.
        g.abort?.abort(new Error(`demoted: ${event.reason}`));
        this.event({
          type: 'lease',
          level: 'warn',
          group: event.group,
          message: `lease of ${event.group} lost: ${event.reason}`,
        });
      } else {
        g.owner = event.owner;
        // An abandoned lease (failed stop) ends without a demote: once the coordinator no
        // longer counts this node as owner, it is over here, and clearFailures may proceed.
        if (g.phase === 'failed-stop' && g.held && event.owner !== this.opts.node) {
          g.held = false;
          g.term = null;
          this.event({
            type: 'lease',
            level: 'warn',
            group: event.group,
            message: `lease of ${event.group} ran out after the failed stop`,
          });
        }
      }
    }
    this.kick();
  }

  // ---- monitors ---------------------------------------------------------------------------

  private updateMonitors(): void {
    const intent = this.intent();
    for (const m of this.monitorSlots.values()) {
      const suspended = intent.suspended.includes(m.key);
      let active = this.running && !suspended;
      const g = m.group;
      if (g) {
        const target = m.config.target ? g.resources.get(m.config.target) : undefined;
        active &&=
          g.phase === 'running' && !g.restarting && (target === undefined || target.state === 'running');
      }
      const wasActive = m.runner.state !== 'inactive';
      if (active && !wasActive) m.resultSinceActive = false;
      m.runner.setActive(active);
      if (g && suspended) this.tellResources(g, m.config.name, true, 'suspended');
      else if (g && wasActive && !active) this.tellResources(g, m.config.name, false, 'not running');
      // A monitor that no longer runs cannot pass again to lift its own ineligibility.
      if ((suspended || (g !== null && !active)) && this.ineligible.delete(m.key)) {
        m.ladder = INITIAL_LADDER;
        this.pushNodeStatus();
      }
    }
  }

  private onProbe(m: MonitorSlot, report: ProbeReport): void {
    const prevOk = m.resultSinceActive ? m.last?.ok : undefined;
    m.last = { ...report, wall: this.opts.timers.wallNow() };
    m.resultSinceActive = true;
    const g = m.group;
    const cfg = { ...m.config, nodeLevel: g === null };
    const { state, decision } = stepLadder(m.ladder, cfg, report.ok, report.at);
    m.ladder = state;
    const base = { monitor: m.key, ...(g ? { group: g.config.name } : {}) };
    if (prevOk !== report.ok) {
      this.event({
        type: 'monitor',
        level: report.ok ? 'info' : 'warn',
        ...base,
        message: `monitor ${m.key} ${report.ok ? 'passed' : 'failed'}${report.status === 'timeout' ? ' (timeout)' : ''}`,
        output: report.output,
        details: { durationMs: Math.round(report.durationMs) },
      });
    }
    if (g) {
      const name = g.config.name;
      if (!report.ok && state.consecutiveFailures === 1)
        this.timelines?.mark(name, 'detected', `monitor ${m.key} failed`);
      if (report.ok && this.timelines?.isOpen(name)) {
        if (this.timelines.has(name, 'started')) this.finishHealthy(g);
        else if (!this.timelines.has(name, 'decided')) this.timelines.abandon(name);
      }
    }
    const firstLine = report.output.split('\n')[0] ?? '';
    switch (decision.kind) {
      case 'restart':
        if (!g) break;
        g.requests.push({ kind: 'restart', resource: decision.target, monitor: m.config.name });
        this.event({
          type: 'recovery',
          level: 'warn',
          ...base,
          resource: decision.target,
          message: `restart ${decision.attempt} of ${m.config.onFailure.restart} of ${decision.target} decided`,
        });
        break;
      case 'failover': {
        if (!g) break;
        const reason = `monitor ${m.key} failed ${m.config.retries + 1} times: ${firstLine}`;
        g.requests.push({ kind: 'failover', monitor: m.config.name, reason });
        this.timelines?.mark(g.config.name, 'decided', reason);
        this.event({
          type: 'recovery',
          level: 'warn',
          ...base,
          message: `failover of ${g.config.name} decided: ${reason}`,
        });
        break;
      }
      case 'ineligible':
        this.ineligible.set(m.key, `monitor ${m.key} failing: ${firstLine}`);
        this.pushNodeStatus();
        this.event({
          type: 'recovery',
          level: 'warn',
          ...base,
          message: `node ineligible while ${m.key} fails`,
        });
        break;
      case 'eligible':
        this.ineligible.delete(m.key);
        this.pushNodeStatus();
        this.event({ type: 'recovery', ...base, message: `node eligible again: ${m.key} passes` });
        break;
      case 'alert':
        this.event({
          type: 'alert',
          level: 'error',
          ...base,
          message: `monitor ${m.key} keeps failing: ${firstLine}`,
        });
        break;
      case 'none':
        break;
    }
    if (g) this.tellResources(g, m.config.name, report.ok, firstLine);
    if (decision.kind !== 'none') this.kick();
  }

  /** Passes a group monitor's word to the group's resources that follow health (lb-probe). */
  private tellResources(g: GroupSlot, monitor: string, ok: boolean, reason: string): void {
    for (const r of g.resources.values()) {
      try {
        r.instance.onMonitorResult?.(monitor, ok, reason);
      } catch (err) {
        this.opts.log.warn({ err, group: g.config.name, resource: r.config.name }, 'onMonitorResult failed');
      }
    }
  }

  private pushNodeStatus(): void {
    this.opts.coordinator.setNodeStatus({
      eligible: this.ineligible.size === 0,
      reasons: [...this.ineligible.values()],
    });
    this.kick();
  }

  private async checkTarget(g: GroupSlot, resource: string, signal: AbortSignal): Promise<CheckResult> {
    const r = g.resources.get(resource);
    if (!r) return { state: 'failed', reason: `no resource ${resource}` };
    const outcome = await runWithTimeout(this.opts.timers, opTimeouts(r.config).check, signal, (s) =>
      r.instance.check(this.resourceContext(g, resource, g.term ?? '', s)),
    );
    const result: CheckResult =
      outcome.status === 'done'
        ? outcome.value
        : {
            state: 'failed',
            reason: outcome.status === 'error' ? errorText(outcome.error) : `check ${outcome.status}`,
          };
    r.lastCheck = { ...result, at: new Date(this.opts.timers.wallNow()).toISOString() };
    return result;
  }

  // ---- construction helpers ---------------------------------------------------------------

  private createGroup(config: GroupConfig): GroupSlot {
    const now = this.opts.timers.wallNow();
    const resources = new Map<string, ResourceSlot>();
    for (const rc of config.resources) {
      resources.set(rc.name, {
        config: rc,
        instance: this.opts.resources(config, rc),
        state: 'stopped',
        since: now,
        lastCheck: null,
        lastError: null,
        lastOutput: null,
        pending: {},
      });
    }
    const slot: GroupSlot = {
      config,
      phase: 'stopped',
      since: now,
      held: false,
      term: null,
      owner: null,
      requests: [],
      chain: null,
      abort: null,
      restarting: false,
      lastError: null,
      rank: undefined,
      lastChain: null,
      resources,
      runner: new GroupRunner({
        group: config,
        timers: this.opts.timers,
        instance: (name) => resources.get(name)!.instance,
        context: (name, term, signal) => this.resourceContext(slot, name, term, signal),
        beforeStart: (name) => {
          const r = resources.get(name)!;
          if (Object.keys(r.pending).length === 0) return;
          const keys = Object.keys(r.pending);
          this.replaceInstance(slot, r, { ...r.config.params, ...r.pending });
          this.event({
            type: 'params',
            group: config.name,
            resource: name,
            message: `pending parameters applied: ${keys.join(', ')}`,
          });
        },
        onChange: (name, state, detail) => {
          const r = resources.get(name)!;
          r.state = state;
          r.since = this.opts.timers.wallNow();
          if (state === 'failed') {
            r.lastError = detail.reason ?? null;
            r.lastOutput = detail.output ?? null;
          }
          if (state === 'running' || state === 'stopped' || state === 'failed') {
            this.event({
              type: 'resource',
              level: state === 'failed' ? 'error' : 'info',
              group: config.name,
              resource: name,
              message:
                state === 'failed' ? `${detail.op} of ${name} failed: ${detail.reason}` : `${name} ${state}`,
              ...(detail.output !== undefined ? { output: detail.output } : {}),
              details: { op: detail.op, durationMs: Math.round(detail.durationMs) },
            });
          }
          if (state === 'running' && slot.phase === 'running') this.updateMonitors();
          if (slot.phase !== 'stopped') this.refreshFence(slot);
        },
      }),
    };
    return slot;
  }

  private createMonitor(config: MonitorConfig, g: GroupSlot | null): void {
    const key = monitorKey(g?.config.name, config.name);
    const instance = this.opts.monitors(config, g?.config ?? null);
    const { config: halo, node, log, agentHealth } = this.opts;
    const slot: MonitorSlot = {
      key,
      config,
      group: g,
      ladder: INITIAL_LADDER,
      last: null,
      resultSinceActive: false,
      runner: new MonitorRunner({
        config,
        instance,
        timers: this.opts.timers,
        context: (signal): MonitorContext => ({
          cluster: halo.cluster.name,
          node,
          ...(g ? { group: g.config.name } : {}),
          monitor: config.name,
          signal,
          log: log.child({ monitor: key }),
          ...(g && config.target ? { checkTarget: () => this.checkTarget(g, config.target!, signal) } : {}),
          ...(agentHealth ? { agentHealth } : {}),
        }),
        onResult: (report) => this.onProbe(slot, report),
      }),
    };
    this.monitorSlots.set(key, slot);
  }

  private resourceContext(
    g: GroupSlot,
    resource: string,
    term: string,
    signal: AbortSignal,
  ): ResourceContext {
    return {
      cluster: this.opts.config.cluster.name,
      node: this.opts.node,
      group: g.config.name,
      resource,
      term,
      signal,
      log: this.opts.log.child({ group: g.config.name, resource }),
      stateDir: this.opts.stateDir,
    };
  }

  private replaceInstance(g: GroupSlot, r: ResourceSlot, params: Record<string, unknown>): void {
    r.config = { ...r.config, params };
    r.instance = this.opts.resources(g.config, r.config);
    r.pending = {};
  }

  private intent(): ParsedIntent {
    return parseIntent(this.opts.coordinator.intent());
  }

  private async writeIntent(entries: Record<string, unknown>): Promise<void> {
    await this.opts.coordinator.updateIntent(entries);
    this.kick();
  }

  private ownerOf(g: GroupSlot): string | null {
    if (g.held) return this.opts.node;
    return g.owner === this.opts.node ? null : g.owner;
  }

  private group(name: string): GroupSlot {
    const g = this.groups.get(name);
    if (!g) throw new HaloError('HALO_E_NOT_FOUND', `no group ${name}`, { group: name });
    return g;
  }

  private resource(group: string, name: string): ResourceSlot {
    const r = this.group(group).resources.get(name);
    if (!r)
      throw new HaloError('HALO_E_NOT_FOUND', `no resource ${name} in group ${group}`, {
        group,
        resource: name,
      });
    return r;
  }

  private monitorKeyOf(name: string): string {
    if (this.monitorSlots.has(name)) return name;
    const matches = [...this.monitorSlots.values()].filter((m) => m.config.name === name);
    if (matches.length === 1) return matches[0]!.key;
    throw new HaloError(
      'HALO_E_NOT_FOUND',
      matches.length === 0 ? `no monitor ${name}` : `monitor name ${name} is ambiguous; use group/monitor`,
      { monitor: name, candidates: matches.map((m) => m.key) },
    );
  }

  private event(input: EventInput): void {
    this.opts.eventLog.append(input);
  }
}

function outputField(result: { output?: string }): { output?: string } {
  return result.output !== undefined ? { output: result.output } : {};
}
