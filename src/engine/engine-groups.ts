import type { GroupConfig } from '../config/model.js';
import { isHaloError } from '../errors.js';
import { baseEnv } from '../util/command-env.js';
import type { EngineCore } from './engine-core.js';
import { EngineFencing } from './engine-fencing.js';
import type { EngineMonitors } from './engine-monitors.js';
import type { EngineParams } from './engine-params.js';
import { CONFIG_RELOAD } from './engine-reload.js';
import { runCommand } from './exec/run-command.js';
import { type GroupOpResult, GroupRunner } from './group-runner.js';
import { type GroupSlot, GroupState } from './group-state.js';
import { inMaintenance, intentKeys } from './intent.js';
import { ResourceSlot } from './resource-slot.js';
import type { Action } from './scheduler.js';
import { errorText } from './timers.js';

/**
 * Executes the scheduler's actions on one group at a time: start, stop, release, restart, and
 * the failed-stop escalation, keeping the group's phase, lease, fence actions and timeline in step.
 */
export class EngineGroups {
  private readonly core: EngineCore;
  private readonly monitors: EngineMonitors;
  readonly fencing: EngineFencing;
  private readonly params: EngineParams;

  constructor(core: EngineCore, monitors: EngineMonitors, params: EngineParams) {
    this.core = core;
    this.monitors = monitors;
    this.params = params;
    this.fencing = new EngineFencing(core);
  }

  async execute(g: GroupSlot, actions: Action[]): Promise<void> {
    const { core } = this;
    for (const action of actions) {
      if (!core.running) return;
      switch (action.type) {
        case 'start-group':
          await this.startNow(g);
          break;
        case 'stop-group':
          await this.stopNow(g, action.then, action.reason);
          break;
        case 'release':
          await this.releaseNow(g, action.reason);
          break;
        case 'restart-resource':
          await this.restartNow(g, action.resource, action.monitor);
          break;
        case 'mark-failed':
          try {
            await core.writeIntent({
              [intentKeys.failed(action.group, action.node)]: true,
              [intentKeys.failedReason(action.group, action.node)]: action.reason,
              [intentKeys.failedAt(action.group, action.node)]: core.opts.timers.wallNow(),
            });
          } catch (err) {
            // This node's state dir refused the mark: the local stop that follows must happen
            // anyway. The failure stays in this node's group state, so the scheduler keeps it
            // out of candidacy and retries the mark. (Without quorum the chain fails and is
            // retried: the embedded backend keeps such a write locally, so the retry stops.)
            if (!isHaloError(err) || err.code !== 'HALO_E_STATE_WRITE_FAILED') throw err;
            core.event({
              type: 'group',
              level: 'error',
              group: action.group,
              message: `${action.node} could not be marked failed (${errorText(err)}); stopping here anyway`,
            });
            break;
          }
          g.state.keepOnlyRestarts();
          core.event({
            type: 'group',
            level: 'warn',
            group: action.group,
            message: `${action.node} marked failed: ${action.reason}`,
          });
          break;
        case 'clear-preferred':
          await core.writeIntent({ [intentKeys.preferred(action.group)]: null });
          break;
        case 'alert':
          core.event({ type: 'alert', level: 'error', group: action.group, message: action.message });
          break;
        case 'final-action':
          await this.finalAction(g, action.action);
          break;
        case 'candidacy':
          break;
      }
    }
  }

  async startNow(g: GroupSlot): Promise<void> {
    const { core } = this;
    const name = g.config.name;
    const term = g.state.term ?? '';
    // fencing: stonith — nothing starts before the previous owner is confirmed off.
    if (!(await this.fencing.clearToStart(g))) return;
    if (!g.state.held || g.state.term !== term) return;
    g.state.setPhase('starting');
    const signal = g.state.beginStart();
    this.refreshFence(g);
    core.event({ type: 'group', group: name, message: `starting ${name} (term ${term})` });
    const result = await g.runner.start(term, signal);
    g.state.endStart();
    if (result.status === 'ok') {
      // Resources know their full environment (term, node) only once started: re-arm the deadman.
      this.refreshFence(g);
      g.state.setPhase('running');
      g.state.setError(null);
      this.monitors.resetLadders(g);
      // previousOwner: the last other node seen holding it (alerts tell a failover from a first start).
      core.event({
        type: 'group',
        group: name,
        message: `${name} started`,
        details: { started: true, previousOwner: g.state.previousOwner },
      });
      core.timelines?.mark(name, 'started', 'activation');
      if (g.config.monitors.length === 0) core.finishHealthy(g);
      return;
    }
    if (result.status === 'stop-failed') return this.failedStop(g, result);
    g.state.setPhase('stopped');
    this.clearFence(g);
    g.state.setError(`${result.resource}: ${result.reason}`);
    core.event({
      type: 'group',
      level: result.aborted ? 'warn' : 'error',
      group: name,
      resource: result.resource,
      message: result.aborted
        ? `start of ${name} aborted`
        : `start of ${name} failed at ${result.resource}: ${result.reason}`,
      ...(result.output !== undefined ? { output: result.output } : {}),
      ...(result.aborted ? {} : { details: { startFailed: true } }),
    });
    if (!result.aborted)
      g.state.request({ kind: 'start-failed', reason: `${result.resource}: ${result.reason}` });
    core.timelines?.mark(name, 'stopped', 'start failed');
    core.timelines?.finish(name);
  }

  async stopNow(g: GroupSlot, then: 'release' | 'hold', reason: string): Promise<void> {
    const { core } = this;
    const name = g.config.name;
    core.timelines?.mark(name, 'decided', reason);
    g.state.setPhase('stopping');
    this.monitors.update();
    core.event({ type: 'group', group: name, message: `stopping ${name}: ${reason}` });
    const result = await g.runner.stop(g.state.term ?? '');
    if (result.status !== 'ok') return this.failedStop(g, result);
    g.state.setPhase('stopped');
    this.clearFence(g);
    g.state.dropRestarts();
    core.event({ type: 'group', group: name, message: `${name} stopped` });
    core.timelines?.mark(name, 'stopped', reason);
    if (then === 'release' && g.state.held) await this.releaseNow(g, reason);
    core.timelines?.finish(name);
  }

  async releaseNow(g: GroupSlot, reason: string): Promise<void> {
    if (!g.state.held) return;
    // Only reached with the group stopped here: tell the next owner it need not fence us.
    await this.fencing.recordHandover(g);
    await this.core.opts.coordinator.release(g.config.name);
    g.state.released();
    this.core.event({
      type: 'lease',
      group: g.config.name,
      message: `lease of ${g.config.name} released: ${reason}`,
    });
  }

  private async restartNow(g: GroupSlot, resource: string, monitor: string): Promise<void> {
    const { core } = this;
    const name = g.config.name;
    g.state.beginRestart();
    this.monitors.update();
    core.event({
      type: 'recovery',
      group: name,
      resource,
      monitor,
      message:
        monitor === CONFIG_RELOAD
          ? `restarting ${resource}: the config changed parameters it reads at start`
          : `restarting ${resource} for monitor ${monitor}`,
    });
    const result = await g.runner.restart(resource, g.state.term ?? '');
    g.state.endRestart(resource);
    if (result.status === 'stop-failed') return this.failedStop(g, result);
    if (result.status === 'start-failed') {
      const reason = `restart of ${resource} failed: ${result.reason}`;
      g.state.request({ kind: 'failover', monitor, reason });
      core.event({
        type: 'recovery',
        level: 'error',
        group: name,
        resource,
        message: reason,
        ...outputField(result),
      });
      return;
    }
    core.event({ type: 'recovery', group: name, resource, message: `${resource} restarted` });
    this.monitors.update();
  }

  /**
   * Recovery of `g` ran out (CLUSTERPRO's final action, WSFC's RestartAction): `stop-groups`
   * hands every other group this node runs over to the other nodes (each is marked failed here,
   * as a failed monitor would); `command` runs the configured command here, bounded in time.
   */
  private async finalAction(
    g: GroupSlot,
    action: Exclude<NonNullable<GroupConfig['finalAction']>, { type: 'none' }>,
  ): Promise<void> {
    const { core } = this;
    const name = g.config.name;
    if (action.type === 'stop-groups') {
      const others = [...core.groups.values()].filter((o) => o !== g && o.state.held);
      for (const o of others)
        o.state.request({
          kind: 'failover',
          monitor: 'final-action',
          reason: `final action of group ${name}`,
        });
      core.event({
        type: 'alert',
        level: 'error',
        group: name,
        message: `final action of ${name}: handing over the other groups of this node (${others.map((o) => o.config.name).join(', ') || 'none'})`,
        details: { finalAction: 'stop-groups' },
      });
      core.kick();
      return;
    }
    const result = await runCommand(action.command, {
      env: {
        ...baseEnv(),
        HALO_GROUP: name,
        HALO_NODE: core.opts.node,
        HALO_CLUSTER: core.opts.config.cluster.name,
      },
      timeoutMs: action.timeoutMs,
    });
    const ok = result.code === 0 && !result.timedOut;
    core.event({
      type: 'alert',
      level: 'error',
      group: name,
      message: ok
        ? `final action of ${name}: command ran`
        : `final action of ${name}: command failed (${result.timedOut ? `timed out after ${action.timeoutMs}ms` : `exit code ${result.code}`})`,
      ...(result.output ? { output: result.output } : {}),
      details: { finalAction: 'command', code: result.code },
    });
  }

  /** Never release: the lease must run out so the deadman acts before anyone else starts the group. */
  failedStop(g: GroupSlot, result: Exclude<GroupOpResult, { status: 'ok' }>): void {
    const { core } = this;
    g.state.setPhase('failed-stop');
    core.setRank(g, null);
    core.opts.coordinator.abandon(g.config.name);
    g.state.setError(`${result.resource}: ${result.reason}`);
    core.event({
      type: 'alert',
      level: 'error',
      group: g.config.name,
      resource: result.resource,
      message: `stop of ${result.resource} failed (${result.reason}); letting the lease run out so the deadman stops the group`,
      ...outputField(result),
      details: { stopFailed: true },
    });
    core.timelines?.abandon(g.config.name);
  }

  /** Arms the deadman with what stops the group here: nothing while the group is unmanaged. */
  refreshFence(g: GroupSlot): void {
    const unmanaged = inMaintenance(this.core.intent(), g.config.name);
    const actions = unmanaged
      ? []
      : [...g.resources.values()].reverse().flatMap((r) => r.instance.fenceActions());
    this.core.opts.coordinator.setFenceActions(g.config.name, actions);
  }

  private clearFence(g: GroupSlot): void {
    this.core.opts.coordinator.setFenceActions(g.config.name, []);
  }

  create(config: GroupConfig): GroupSlot {
    const { core } = this;
    const clock = () => core.opts.timers.wallNow();
    const resources = new Map<string, ResourceSlot>();
    for (const rc of config.resources)
      resources.set(rc.name, new ResourceSlot(rc, core.opts.resources(config, rc), clock));
    const state = new GroupState(clock);
    const slot: GroupSlot = {
      config,
      state,
      resources,
      runner: new GroupRunner({
        // The slot's config, which a config reload may replace (same resources, new params).
        get group() {
          return slot.config;
        },
        timers: core.opts.timers,
        instance: (name) => resources.get(name)!.instance,
        context: (name, term, signal) => core.resourceContext(slot, name, term, signal),
        beforeStart: (name) => {
          const keys = this.params.beforeStart(slot, resources.get(name)!);
          if (keys.length === 0) return;
          core.event({
            type: 'params',
            group: config.name,
            resource: name,
            message: `pending parameters applied: ${keys.join(', ')}`,
          });
        },
        onChange: (name, runState, detail) => {
          resources.get(name)!.changed(runState, detail);
          if (runState === 'running') this.params.recordApplied(slot, resources.get(name)!);
          if (runState === 'running' || runState === 'stopped' || runState === 'failed') {
            core.event({
              type: 'resource',
              level: runState === 'failed' ? 'error' : 'info',
              group: config.name,
              resource: name,
              message:
                runState === 'failed'
                  ? `${detail.op} of ${name} failed: ${detail.reason}`
                  : `${name} ${runState}`,
              ...(detail.output !== undefined ? { output: detail.output } : {}),
              details: { op: detail.op, durationMs: Math.round(detail.durationMs) },
            });
          }
          if (runState === 'running' && state.phase === 'running') this.monitors.update();
          if (state.phase !== 'stopped') this.refreshFence(slot);
        },
      }),
    };
    return slot;
  }
}

function outputField(result: { output?: string }): { output?: string } {
  return result.output !== undefined ? { output: result.output } : {};
}
