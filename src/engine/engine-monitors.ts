import type { MonitorChanges } from '../config/config-diff.js';
import type { MonitorConfig } from '../config/model.js';
import { HaloError } from '../errors.js';
import { childLogger } from '../log.js';
import type { EngineCore } from './engine-core.js';
import { opTimeouts } from './group-runner.js';
import type { GroupSlot } from './group-state.js';
import { monitorKey, monitorOff } from './intent.js';
import { MonitorRunner, type ProbeReport } from './monitor-runner.js';
import type { MonitorContext } from './monitors/types.js';
import { INITIAL_LADDER, type LadderState, stepLadder } from './recovery.js';
import type { CheckResult } from './resources/types.js';
import { errorText, runWithTimeout } from './timers.js';

/** A monitor with its recovery ladder and last result. Only `EngineMonitors` changes it. */
interface MonitorSlot {
  readonly key: string;
  readonly config: MonitorConfig;
  readonly group: GroupSlot | null;
  readonly runner: MonitorRunner;
  ladder: LadderState;
  last: (ProbeReport & { wall: number }) | null;
  /** A result arrived since the monitor last became active (before that it shows as pending). */
  resultSinceActive: boolean;
}

/** What status readers see of a monitor slot. */
export type MonitorView = Readonly<MonitorSlot>;

/**
 * The engine's monitors: runs each one while its group may be probed, feeds results through
 * the recovery ladder and turns its decisions into group requests (restart, failover) or this
 * node's eligibility, which it publishes to the coordinator. It is the only writer of its
 * monitor slots; group state changes go through the group's `GroupState`.
 */
export class EngineMonitors {
  private readonly core: EngineCore;
  private readonly slots = new Map<string, MonitorSlot>();
  private readonly ineligible = new Map<string, string>();

  constructor(core: EngineCore) {
    this.core = core;
  }

  get eligible(): boolean {
    return this.ineligible.size === 0;
  }

  get ineligibleReasons(): string[] {
    return [...this.ineligible.values()];
  }

  views(): Iterable<MonitorView> {
    return this.slots.values();
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.slots.values()].map((m) => m.runner.stop()));
  }

  /** A group that just started begins each of its monitors' ladders afresh. */
  resetLadders(g: GroupSlot): void {
    for (const m of this.slots.values()) if (m.group === g) m.ladder = INITIAL_LADDER;
  }

  /**
   * `halo cleanup`: the group's monitors (only those watching `resource`, when given) forget
   * their failures and restarts. An ineligibility one of them holds is lifted with its ladder:
   * the fresh ladder could not lift it on the next pass, and a monitor still failing decides it
   * again after its retries.
   */
  forgetFailures(g: GroupSlot, resource: string | null): void {
    let lifted = false;
    for (const m of this.slots.values()) {
      if (m.group !== g || (resource !== null && m.config.target !== resource)) continue;
      m.ladder = INITIAL_LADDER;
      lifted = this.ineligible.delete(m.key) || lifted;
    }
    if (lifted) this.pushNodeStatus();
  }

  /** `name` is the monitor key (`group/monitor` or a node-level name) or a unique bare name. */
  keyOf(name: string): string {
    if (this.slots.has(name)) return name;
    const matches = [...this.slots.values()].filter((m) => m.config.name === name);
    if (matches.length === 1) return matches[0]!.key;
    throw new HaloError(
      'HALO_E_NOT_FOUND',
      matches.length === 0 ? `no monitor ${name}` : `monitor name ${name} is ambiguous; use group/monitor`,
      { monitor: name, candidates: matches.map((m) => m.key) },
    );
  }

  create(config: MonitorConfig, g: GroupSlot | null): void {
    const key = monitorKey(g?.config.name, config.name);
    const instance = this.core.opts.monitors(config, g?.config ?? null);
    const { config: halo, node, log, agentHealth } = this.core.opts;
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
        timers: this.core.opts.timers,
        context: (signal): MonitorContext => ({
          cluster: halo.cluster.name,
          node,
          ...(g ? { group: g.config.name } : {}),
          monitor: config.name,
          signal,
          log: childLogger(log, { monitor: key }),
          ...(g && config.target
            ? { checkTarget: () => this.checkTarget(g, config.target!, signal, config.intervalMs) }
            : {}),
          ...(agentHealth ? { agentHealth } : {}),
        }),
        onResult: (report) => this.onProbe(slot, report),
      }),
    };
    this.slots.set(key, slot);
  }

  /**
   * A config reload: monitors removed or changed stop (a changed one starts afresh with its new
   * settings, counters at zero); added ones are created. Every other monitor keeps running with
   * its counters, as keepalived keeps its unchanged checkers.
   */
  async reconfigure(
    g: GroupSlot | null,
    configs: readonly MonitorConfig[],
    changes: MonitorChanges,
  ): Promise<void> {
    let lifted = false;
    for (const name of [...changes.removed, ...changes.changed]) {
      const key = monitorKey(g?.config.name, name);
      const slot = this.slots.get(key);
      if (!slot) continue;
      this.slots.delete(key);
      lifted = this.ineligible.delete(key) || lifted;
      await slot.runner.stop();
      if (g) this.tellResources(g, name, true, 'removed by a config reload');
    }
    for (const name of [...changes.changed, ...changes.added]) {
      const config = configs.find((m) => m.name === name);
      if (config) this.create(config, g);
    }
    if (lifted) this.pushNodeStatus();
    this.update();
  }

  /** Activates exactly the monitors whose group (and target) runs here and that are not suspended. */
  update(): void {
    const intent = this.core.intent();
    for (const m of this.slots.values()) {
      const suspended = monitorOff(intent, m.key, m.group?.config.name ?? null);
      let active = this.core.running && !suspended;
      const g = m.group;
      if (g) {
        const target = m.config.target ? g.resources.get(m.config.target) : undefined;
        active &&=
          g.state.phase === 'running' &&
          !g.state.restarting &&
          (target === undefined || target.state === 'running');
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

  pushNodeStatus(): void {
    this.core.opts.coordinator.setNodeStatus({
      eligible: this.ineligible.size === 0,
      reasons: [...this.ineligible.values()],
    });
    this.core.kick();
  }

  private onProbe(m: MonitorSlot, report: ProbeReport): void {
    const { timelines } = this.core;
    const prevOk = m.resultSinceActive ? m.last?.ok : undefined;
    m.last = { ...report, wall: this.core.opts.timers.wallNow() };
    m.resultSinceActive = true;
    const g = m.group;
    const cfg = { ...m.config, nodeLevel: g === null };
    const { state, decision } = stepLadder(m.ladder, cfg, report.ok, report.at, report.hard === true);
    m.ladder = state;
    const base = { monitor: m.key, ...(g ? { group: g.config.name } : {}) };
    if (prevOk !== report.ok) {
      this.core.event({
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
        timelines?.mark(name, 'detected', `monitor ${m.key} failed`);
      if (report.ok && timelines?.isOpen(name)) {
        if (timelines.has(name, 'started')) this.core.finishHealthy(g);
        else if (!timelines.has(name, 'decided')) timelines.abandon(name);
      }
    }
    const firstLine = report.output.split('\n')[0] ?? '';
    switch (decision.kind) {
      case 'restart':
        if (!g) break;
        g.state.request({ kind: 'restart', resource: decision.target, monitor: m.config.name });
        this.core.event({
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
        g.state.request({ kind: 'failover', monitor: m.config.name, reason });
        timelines?.mark(g.config.name, 'decided', reason);
        this.core.event({
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
        this.core.event({
          type: 'recovery',
          level: 'warn',
          ...base,
          message: `node ineligible while ${m.key} fails`,
        });
        break;
      case 'eligible':
        this.ineligible.delete(m.key);
        this.pushNodeStatus();
        this.core.event({ type: 'recovery', ...base, message: `node eligible again: ${m.key} passes` });
        break;
      case 'alert':
        this.core.event({
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
    if (decision.kind !== 'none') this.core.kick();
  }

  /** Passes a group monitor's word to the group's resources that follow health (lb-probe). */
  private tellResources(g: GroupSlot, monitor: string, ok: boolean, reason: string): void {
    for (const r of g.resources.values()) {
      try {
        r.instance.onMonitorResult?.(monitor, ok, reason);
      } catch (err) {
        this.core.opts.log.warn(
          { err, group: g.config.name, resource: r.config.name },
          'onMonitorResult failed',
        );
      }
    }
  }

  private async checkTarget(
    g: GroupSlot,
    resource: string,
    signal: AbortSignal,
    intervalMs: number,
  ): Promise<CheckResult> {
    const r = g.resources.get(resource);
    if (!r) return { state: 'failed', reason: `no resource ${resource}` };
    const { timers } = this.core.opts;
    const outcome = await runWithTimeout(timers, opTimeouts(r.config).check, signal, (s) =>
      r.instance.check({
        ...this.core.resourceContext(g, resource, g.state.term ?? '', s),
        monitorIntervalMs: intervalMs,
      }),
    );
    const result: CheckResult =
      outcome.status === 'done'
        ? outcome.value
        : {
            state: 'failed',
            reason: outcome.status === 'error' ? errorText(outcome.error) : `check ${outcome.status}`,
          };
    r.checked(result);
    return result;
  }
}
