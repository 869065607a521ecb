import type { GroupConfig } from '../config/model.js';
import { childLogger } from '../log.js';
import type { EngineCore } from './engine-core.js';
import {
  describeFence,
  type FenceState,
  type Handover,
  nextStep,
  onAcquired,
  onAttempt,
} from './fencing/fence-plan.js';
import { createFenceDevice } from './fencing/registry.js';
import type { FenceDevice } from './fencing/types.js';
import type { GroupSlot } from './group-state.js';
import { intentKeys } from './intent.js';
import { type Cancel, errorText, runWithTimeout } from './timers.js';

/** How long an attempt that timed out may take to end (an agent being killed) before the next. */
const SETTLE_MS = 5000;

/**
 * The I/O shell of `fencing: stonith` (decisions in fencing/fence-plan.ts): before a group
 * starts under a new term, it fences the previous owner through the group's device and says
 * whether the start may go on. It also writes the handover record after a clean stop, which
 * spares the next owner the fence. Events and status say what it did and why.
 */
export class EngineFencing {
  private readonly core: EngineCore;
  private readonly states = new Map<string, FenceState>();
  private readonly devices = new Map<string, FenceDevice>();
  private readonly wakes = new Map<string, Cancel>();

  constructor(core: EngineCore) {
    this.core = core;
  }

  /** The fencing state of a group's current or last term (status). */
  state(group: string): FenceState | null {
    return this.states.get(group) ?? null;
  }

  stop(): void {
    for (const cancel of this.wakes.values()) cancel();
    this.wakes.clear();
  }

  /**
   * True when the group may start under its current term; false when it must stay down for
   * now (a fence is due later, or failed): the engine is kicked again when the next step is due.
   */
  async clearToStart(g: GroupSlot): Promise<boolean> {
    const { core } = this;
    const stonith = g.config.stonith;
    if (g.config.fencing !== 'stonith' || stonith === undefined) return true;
    const name = g.config.name;
    const self = core.opts.node;
    const term = g.state.term ?? '';
    let st = this.states.get(name);
    if (st === undefined || st.term !== term) {
      const previous = g.state.holderBefore(self, term);
      st = onAcquired(
        { self, term, previous, handover: this.handover(name), random: Math.random() },
        stonith,
        core.opts.timers.now(),
      );
      this.states.set(name, st);
      if (st.phase === 'waiting') {
        const delayMs = Math.round(st.notBefore - core.opts.timers.now());
        core.event({
          type: 'group',
          level: 'warn',
          group: name,
          message: `${name} stays down until ${st.target.node} is fenced: its lease (term ${st.target.term}) ended without a clean handover${delayMs > 0 ? `; fencing delay ${delayMs}ms` : ''}`,
          details: { stonith: { target: st.target.node, phase: 'needed', delayMs } },
        });
      } else if (previous !== null && previous.node !== self) {
        core.event({ type: 'group', group: name, message: `${name}: ${describeFence(st)}` });
      }
    }
    for (;;) {
      const now = core.opts.timers.now();
      const { state, step } = nextStep(st, this.handover(name), now);
      st = state;
      this.states.set(name, st);
      if (step.kind === 'start') return true;
      if (step.kind === 'wait') {
        this.wakeAt(name, step.untilMs - now);
        if (st.phase === 'waiting') g.state.setError(describeFence(st));
        return false;
      }
      const outcome = await this.attempt(g, step.target, step.attempt, stonith.timeoutMs);
      st = onAttempt(st, outcome, stonith, core.opts.timers.now());
      this.states.set(name, st);
      if (!g.state.held || g.state.term !== term) return false;
    }
  }

  private async attempt(
    g: GroupSlot,
    target: string,
    attempt: number,
    timeoutMs: number,
  ): Promise<{ ok: true } | { ok: false; error: string }> {
    const { core } = this;
    const name = g.config.name;
    const device = this.device(g.config);
    core.event({
      type: 'group',
      level: 'warn',
      group: name,
      message: `fencing ${target} through the ${g.config.stonith?.device.type} device (attempt ${attempt})`,
      details: { stonith: { target, phase: 'fencing', attempt } },
    });
    // A demote aborts the start signal: a node that lost the lease stops fencing for it.
    const signal = g.state.beginStart();
    const outcome = await runWithTimeout(
      core.opts.timers,
      timeoutMs,
      signal,
      (s) => device.fence(target, s),
      { settleMs: () => SETTLE_MS },
    );
    g.state.endStart();
    if (outcome.status === 'done') {
      core.event({
        type: 'group',
        level: 'warn',
        group: name,
        message: `${target} fenced: ${outcome.value.detail}`,
        details: {
          stonith: { target, phase: 'fenced', attempt, durationMs: Math.round(outcome.durationMs) },
        },
      });
      g.state.setError(null);
      return { ok: true };
    }
    const error =
      outcome.status === 'error'
        ? errorText(outcome.error)
        : outcome.status === 'timeout'
          ? `no confirmation within ${timeoutMs}ms`
          : 'cancelled: the lease was lost';
    g.state.setError(`fencing ${target} failed: ${error}`);
    core.event({
      type: 'group',
      level: 'error',
      group: name,
      message: `fencing ${target} failed (attempt ${attempt}): ${error}; ${name} stays down`,
      details: { stonith: { target, phase: 'failed', attempt, error } },
    });
    return { ok: false, error };
  }

  /**
   * After a clean stop, before the release: tells the next owner this node's copy is down, so
   * it need not be fenced. Bounded: a record that cannot be written only costs a fence.
   */
  async recordHandover(g: GroupSlot): Promise<void> {
    const { core } = this;
    const term = g.state.term;
    if (g.config.fencing !== 'stonith' || term === null) return;
    const record: Handover = { node: core.opts.node, term };
    const outcome = await runWithTimeout(core.opts.timers, 2000, undefined, () =>
      core.opts.coordinator.updateIntent({ [intentKeys.handover(g.config.name)]: record }),
    );
    if (outcome.status !== 'done')
      core.opts.log.warn(
        { group: g.config.name, outcome: outcome.status },
        'handover record not written; the next owner will fence this node',
      );
  }

  private handover(group: string): Handover | null {
    const value = this.core.opts.coordinator.intent()[intentKeys.handover(group)]?.value as
      | Partial<Handover>
      | undefined;
    if (typeof value?.node !== 'string' || typeof value.term !== 'string') return null;
    return { node: value.node, term: value.term };
  }

  private device(config: GroupConfig): FenceDevice {
    let device = this.devices.get(config.name);
    if (!device) {
      const stonith = config.stonith!;
      const ctx = { group: config.name, log: childLogger(this.core.opts.log, { group: config.name }) };
      device = this.core.opts.fenceDevice?.(config, ctx) ?? createFenceDevice(stonith.device, ctx);
      this.devices.set(config.name, device);
    }
    return device;
  }

  private wakeAt(group: string, ms: number): void {
    this.wakes.get(group)?.();
    this.wakes.set(
      group,
      this.core.opts.timers.setTimeout(
        () => {
          this.wakes.delete(group);
          this.core.kick();
        },
        Math.max(0, ms),
      ),
    );
  }
}
