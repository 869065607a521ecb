import type { Logger } from '../../log.js';
import type { Cancel, TimerClock } from '../../util/clock.js';
import type { DeadmanSpawnOptions } from '../deadman/client.js';
import type { FenceAction } from '../deadman/fence-action.js';
import type { CoordinatorEvent, CoordinatorView } from '../types.js';
import { DeadmanGuard } from './deadman-guard.js';
import { type DeadmanChange, DeadmanSupervisor, type DeadmanView } from './deadman-supervisor.js';
import { canMove, type Lifecycle } from './lifecycle.js';
import { TaskTracker } from './task-tracker.js';

/**
 * What a backend's pure core may ask of the shell besides its own commands: an event for the
 * listeners (`membership` carries no view: the shell renders it when it publishes), or a log
 * line (the core does no I/O, logging included).
 */
export type CoreEvent = Exclude<CoordinatorEvent, { type: 'membership' }> | { type: 'membership' };

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  fields?: Record<string, unknown>;
}

export interface ShellOptions {
  log: Logger;
  clock: TimerClock;
  /** Renders the backend's view for `membership` events. */
  view: () => CoordinatorView;
}

/**
 * The part every coordination backend shares and that has nothing to decide: the lifecycle,
 * the listeners, the published owner of every group, the fence actions and the deadman helper,
 * timers (through the injected clock) and background tasks. A backend keeps its decisions in a
 * pure core and hands this shell the results; `stop()` cancels every timer, aborts and awaits
 * every task, then stops the helper.
 */
export class CoordinatorShell {
  readonly log: Logger;
  readonly clock: TimerClock;
  private readonly view: () => CoordinatorView;
  private readonly listeners = new Set<(e: CoordinatorEvent) => void>();
  private readonly owners = new Map<string, { owner: string | null; term: string | null }>();
  private readonly fence = new Map<string, FenceAction[]>();
  private readonly timers = new Set<Cancel>();
  private readonly tasks: TaskTracker;
  private deadman: DeadmanSupervisor | undefined;
  private guard: DeadmanGuard | undefined;
  private readonly deadmanListeners = new Set<(change: DeadmanChange) => void>();
  private state: Lifecycle = 'idle';

  constructor(opts: ShellOptions) {
    this.log = opts.log;
    this.clock = opts.clock;
    this.view = opts.view;
    this.tasks = new TaskTracker((name, err) =>
      this.log.error({ task: name, err: (err as Error)?.message ?? String(err) }, 'background task failed'),
    );
  }

  get lifecycle(): Lifecycle {
    return this.state;
  }

  get running(): boolean {
    return this.state === 'running';
  }

  /** Aborted as soon as `stop` begins; pass it to anything that may take long. */
  get signal(): AbortSignal {
    return this.tasks.signal;
  }

  /** Moves the lifecycle forward; refuses any other transition (a programming error). */
  enter(next: Lifecycle): void {
    if (!canMove(this.state, next)) throw new Error(`coordinator cannot go from ${this.state} to ${next}`);
    this.state = next;
  }

  /** After each await in `start`: false once `stop` began meanwhile (start must then give up). */
  get stillStarting(): boolean {
    return this.state === 'starting';
  }

  // ---- listeners and the owner view -----------------------------------------------------------

  on(listener: (event: CoordinatorEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: CoreEvent): void {
    // A demoted group is stopped by the engine; the helper keeps its last deadline in case
    // that stop hangs, but there is nothing left to demote.
    if (event.type === 'demote') this.deadman?.forget(event.group);
    if (event.type === 'owner') {
      this.setOwner(event.group, event.owner, event.term);
      return;
    }
    this.publish(event.type === 'membership' ? { type: 'membership', view: this.view() } : event);
  }

  /** Publishes the group's owner if it changed (listeners see each change once). */
  setOwner(group: string, owner: string | null, term: string | null): void {
    const prev = this.owners.get(group);
    if (prev && prev.owner === owner && prev.term === term) return;
    this.owners.set(group, { owner, term });
    this.publish({ type: 'owner', group, owner, term });
  }

  owner(group: string): { owner: string | null; term: string | null } {
    return this.owners.get(group) ?? { owner: null, term: null };
  }

  writeLog(line: LogLine): void {
    this.log[line.level](line.fields ?? {}, line.msg);
  }

  private publish(event: CoordinatorEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.log.error({ err: (err as Error).message, event: event.type }, 'coordinator listener failed');
      }
    }
  }

  // ---- fencing and the deadman helper ---------------------------------------------------------

  /**
   * Starts the deadman helper and keeps one running (see DeadmanSupervisor); `slackMs` is
   * S − gh, the distance from the helper's deadline back to the agent's own demote point.
   */
  async spawnDeadman(opts: Omit<DeadmanSpawnOptions, 'log'>, slackMs: number): Promise<void> {
    const guard = new DeadmanGuard({ slackMs, enabled: true });
    const deadman = new DeadmanSupervisor({
      spawn: opts,
      log: this.log,
      guard,
      actions: (group) => this.fence.get(group) ?? [],
      task: (name, fn) => this.spawn(name, fn),
      after: (ms, fn) => this.after(ms, fn),
      onChange: (change) => {
        const level = change.state === 'ready' ? 'warn' : 'error';
        this.log[level]({ ...change }, change.reason);
        for (const l of this.deadmanListeners) l(change);
        this.publish({ type: 'deadman', ...change });
      },
    });
    this.guard = guard;
    this.deadman = deadman;
    await deadman.start();
  }

  /** The helper's state changed (died, restarted): backends re-decide their candidacies. */
  onDeadman(listener: (change: DeadmanChange) => void): void {
    this.deadmanListeners.add(listener);
  }

  /** False while no helper is ready: the node must not acquire anything new. */
  get deadmanCanAcquire(): boolean {
    return this.guard?.canAcquire() ?? true;
  }

  /** Held groups that lost their cover and must be demoted now (see DeadmanGuard). */
  deadmanDue(now: number): string[] {
    return this.guard?.due(now) ?? [];
  }

  deadmanNextDueAt(now: number): number | null {
    return this.guard?.nextDueAt(now) ?? null;
  }

  deadmanView(): DeadmanView | undefined {
    return this.deadman?.view();
  }

  setFenceActions(group: string, actions: FenceAction[]): void {
    this.fence.set(group, actions);
  }

  /**
   * (Re)arms the helper for a held group: at `deadlineMonoMs` it runs the group's fence actions
   * (and, if the agent died, sends `releasePayload` to the voters), unless re-armed or disarmed
   * before.
   */
  armDeadman(group: string, deadlineMonoMs: number, releasePayload: unknown): void {
    this.deadman?.arm(group, deadlineMonoMs, releasePayload);
  }

  /** Moves the helper's deadline of groups it holds armed (a batched renewal): one request. */
  extendDeadman(groups: readonly string[], deadlineMonoMs: number): void {
    this.deadman?.extend(groups, deadlineMonoMs);
  }

  async disarmDeadman(group: string): Promise<void> {
    await this.deadman?.disarm(group);
  }

  /** Stop guarding a group whose lease is abandoned; the helper stays armed and fences it. */
  forgetDeadman(group: string): void {
    this.deadman?.forget(group);
  }

  // ---- timers and tasks -----------------------------------------------------------------------

  /** Runs `fn` after `ms` on the injected clock, unless cancelled or stopped first. */
  after(ms: number, fn: () => void): Cancel {
    if (this.state === 'stopping' || this.state === 'stopped') return () => undefined;
    const cancelTimer = this.clock.setTimeout(() => {
      this.timers.delete(cancel);
      fn();
    }, ms);
    const cancel: Cancel = () => {
      this.timers.delete(cancel);
      cancelTimer();
    };
    this.timers.add(cancel);
    return cancel;
  }

  /** Waits `ms` on the injected clock; resolves early when the shell stops. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.signal;
      if (signal.aborted) return resolve();
      const done = () => {
        cancel();
        signal.removeEventListener('abort', done);
        resolve();
      };
      const cancel = this.clock.setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Background work, awaited by `stop`; dropped once stopping began. */
  spawn(name: string, fn: (signal: AbortSignal) => Promise<unknown>): void {
    this.tasks.run(name, fn);
  }

  /**
   * First half of a stop: no timer fires any more, every task is told to give up and is
   * awaited. The backend then closes its own connections and calls {@link finish}.
   */
  async quiesce(): Promise<void> {
    if (this.state === 'starting' || this.state === 'running') this.enter('stopping');
    for (const cancel of [...this.timers]) cancel();
    await this.tasks.drain();
  }

  /** Second half of a stop (or the end of a failed start): the helper disarms everything and exits. */
  async finish(): Promise<void> {
    await this.deadman?.stop();
    if (this.state !== 'stopped') this.state = 'stopped';
  }
}
