import { setMaxListeners } from 'node:events';
import type { EngineCore } from './engine-core.js';
import type { EngineGroups } from './engine-groups.js';
import type { GroupSlot } from './group-state.js';
import { groupIntent, inMaintenance, intentKeys, managedSinceOf } from './intent.js';
import { decideProbe, type ProbeFinding, probeDue } from './probe-decision.js';
import type { Cancel } from './timers.js';

/** Used when a group config carries no `probeInterval` (configs built in code, older tests). */
export const DEFAULT_PROBE_INTERVAL_MS = 10_000;
/** Longest wait between two looks at which groups are due. */
const TICK_MS = 1000;
/** Shortest interval honoured: probes are cheap, but not free. */
const MIN_INTERVAL_MS = 100;

/**
 * Runs the probes that `probe-decision.ts` decides on: every group at agent start, then every
 * `probeInterval` wherever the group is stopped, each resource's `check` on this node; copies
 * found where the lease is not held are stopped, with an event carrying the check's output.
 * A probe runs as the group's action chain, so it never overlaps a start or stop of the group;
 * an acquisition that lands during a probe is honoured (the decision reads the state after the
 * checks), and the start it leads to waits for the probe to end.
 */
export class EngineProbes {
  private readonly core: EngineCore;
  private readonly groups: EngineGroups;
  private readonly abort = new AbortController();
  private cancelTick: Cancel | null = null;
  /** Groups that left maintenance and were not probed here since (see scheduler.ts `unprobed`). */
  private readonly pending = new Set<string>();

  constructor(core: EngineCore, groups: EngineGroups) {
    this.core = core;
    this.groups = groups;
    // Every group's probe listens on this one signal while it runs (one each, removed when it
    // ends): a thousand groups probed at start are not a leak.
    setMaxListeners(0, this.abort.signal);
  }

  /** Probes every group now (before the first reconcile), then keeps looking for due ones. */
  start(): void {
    this.tick();
  }

  /**
   * Probes `g` as soon as it is idle and stopped here (`halo cleanup`): what runs on this node
   * is looked at again instead of trusting what was seen before.
   */
  probeSoon(g: GroupSlot): void {
    if (!this.core.running || this.abort.signal.aborted) return;
    g.state.forgetProbe();
    this.cancelTick?.();
    this.tick();
  }

  /** The group left maintenance: probe it before this node stands for it again. */
  afterMaintenance(g: GroupSlot): void {
    this.pending.add(g.config.name);
    this.probeSoon(g);
  }

  /**
   * Tells every node this one has looked at the group since it left maintenance (and stopped
   * what it should not run): the scheduler waits for that from every node that is up. The owner
   * vouches without a probe: its monitors watch what it runs.
   */
  recordProbed(g: GroupSlot): void {
    const { core } = this;
    const name = g.config.name;
    const self = core.opts.node;
    const intent = core.intent();
    const since = managedSinceOf(intent, name);
    if (since === 0 || (groupIntent(intent, name).probed[self] ?? 0) >= since) return;
    core.writeIntent({ [intentKeys.probed(name, self)]: since }).then(
      () => core.kick(),
      (err: unknown) => {
        core.opts.log.warn({ err, group: name }, 'probe after maintenance not recorded; probing again');
        this.probeSoon(g);
      },
    );
  }

  /** Groups this node must probe before it stands for them. */
  unprobed(): string[] {
    return [...this.pending];
  }

  /** Stops the timer and cuts running checks short; the engine awaits the groups' chains. */
  stop(): void {
    this.cancelTick?.();
    this.cancelTick = null;
    this.abort.abort(new Error('agent stopping'));
  }

  private tick(): void {
    const { core } = this;
    if (!core.running || this.abort.signal.aborted) return;
    const now = core.opts.timers.now();
    let next = TICK_MS;
    const intent = core.intent();
    for (const g of core.groups.values()) {
      // Unmanaged: a copy found now is left alone; leaving maintenance probes at once.
      if (inMaintenance(intent, g.config.name)) continue;
      const intervalMs = Math.max(MIN_INTERVAL_MS, g.config.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS);
      next = Math.min(next, intervalMs);
      const due = probeDue({
        lastAt: g.state.lastProbeAt,
        now,
        intervalMs,
        phase: g.state.phase,
        held: g.state.held,
        busy: g.state.chain !== null,
      });
      if (due) g.state.beginProbe(now, () => this.probe(g));
    }
    this.cancelTick = core.opts.timers.setTimeout(() => this.tick(), next);
  }

  private async probe(g: GroupSlot): Promise<void> {
    const { core } = this;
    try {
      await this.probeNow(g);
      if (!inMaintenance(core.intent(), g.config.name)) {
        this.pending.delete(g.config.name);
        this.recordProbed(g);
      }
      g.state.endChain();
    } catch (err) {
      g.state.endChain(err instanceof Error ? err.message : String(err));
      core.opts.log.warn({ err, group: g.config.name }, 'probe failed');
    }
    core.kick();
  }

  private async probeNow(g: GroupSlot): Promise<void> {
    const { core } = this;
    const name = g.config.name;
    const self = core.opts.node;
    const term = g.state.term ?? '';
    const findings = await g.runner.probe(term, this.abort.signal);
    if (this.abort.signal.aborted || !core.running) return;
    if (inMaintenance(core.intent(), name)) return;
    for (const { resource, ...check } of findings) g.resources.get(resource)?.checked(check);
    const verdict = decideProbe({
      self,
      resources: g.config.resources.map((r) => r.name),
      phase: g.state.phase,
      held: g.state.held,
      owner: core.ownerOf(g),
      findings,
    });
    if (verdict.kind === 'owned-here') return this.noteTakenOver(g, findings, verdict.found);
    if (verdict.kind !== 'stop-strays') return;
    core.event({
      type: 'group',
      level: verdict.multipleActive ? 'error' : 'warn',
      group: name,
      message: `probe: ${name} ${verdict.reason}; stopping ${verdict.resources.join(', ')} here`,
      details: { probe: true, multipleActive: verdict.multipleActive, owner: core.ownerOf(g) },
    });
    const byName = new Map(findings.map((f) => [f.resource, f]));
    for (const resource of verdict.resources) {
      const f = byName.get(resource) as ProbeFinding;
      core.event({
        type: 'resource',
        level: 'warn',
        group: name,
        resource,
        message: `probe: ${resource} is ${f.state} on ${self} where ${name} is not active: ${f.reason ?? f.state}`,
        output: f.output ?? f.reason ?? '',
        details: { probe: true, state: f.state },
      });
    }
    const result = await g.runner.stopOnly(verdict.resources, term);
    // A lease that landed during the stop is honoured: the start waits for this chain.
    if (result.status !== 'ok') {
      // A copy that cannot be stopped: this node must not become the owner (failed-stop keeps
      // its candidacy off until an operator clears it), and the alert says why.
      this.groups.failedStop(g, result);
      return;
    }
    core.event({
      type: 'group',
      level: 'warn',
      group: name,
      message: `probe: stopped the copy of ${name} on ${self} (${verdict.resources.join(', ')})`,
      details: { probe: true, resources: verdict.resources },
    });
  }

  /**
   * The lease arrived while the checks ran: the copies found are this node's to take over, and
   * its start replaces them (before it spawns its own, a `process` ends what it finds). The
   * event keeps what was found, so the replacement is not silent.
   */
  private noteTakenOver(g: GroupSlot, findings: readonly ProbeFinding[], found: readonly string[]): void {
    const self = this.core.opts.node;
    for (const f of findings) {
      if (!found.includes(f.resource)) continue;
      this.core.event({
        type: 'resource',
        level: 'warn',
        group: g.config.name,
        resource: f.resource,
        message: `probe: ${f.resource} is ${f.state} on ${self}, which acquired ${g.config.name} meanwhile; its start replaces this copy: ${f.reason ?? f.state}`,
        output: f.output ?? f.reason ?? '',
        details: { probe: true, state: f.state, takenOver: true },
      });
    }
  }
}
