import type { Logger } from '../../log.js';
import type { Cancel } from '../../util/clock.js';
import { DeadmanClient, type DeadmanSpawnOptions } from '../deadman/client.js';
import type { FenceAction } from '../deadman/fence-action.js';
import type { DeadmanGuard, DeadmanState, DeadmanView } from './deadman-guard.js';

export type { DeadmanView } from './deadman-guard.js';

/**
 * Keeps a deadman helper running and armed for every group this node holds. If the helper
 * dies (or an arm fails, which means it no longer answers: it is killed), a new one is
 * spawned at once, retried with a growing pause while spawning fails, and re-armed with
 * every held group's latest deadline and fence actions. The rules for what the node may do
 * meanwhile are {@link DeadmanGuard}'s; this class does the I/O and reports each change.
 */

export type DeadmanChange = { state: DeadmanState; reason: string; restarts: number; pid: number | null };

export interface SupervisorOptions {
  spawn: Omit<DeadmanSpawnOptions, 'log'>;
  log: Logger;
  guard: DeadmanGuard;
  /** Fence actions of a group, read when an arm is sent. */
  actions: (group: string) => FenceAction[];
  /** Tracked background work (awaited by the shell's stop). */
  task: (name: string, fn: () => Promise<unknown>) => void;
  /** A timer on the shell's clock (cancelled by its stop). */
  after: (ms: number, fn: () => void) => Cancel;
  onChange: (change: DeadmanChange) => void;
}

/** Pauses before a respawn, by failures in a row (spawn errors, helpers dying young). */
const RETRY_MS = [0, 100, 250, 500, 1000];
/** A helper that ran at least this long before it died is restarted without a pause. */
const HEALTHY_MS = 1000;

export class DeadmanSupervisor {
  private readonly opts: SupervisorOptions;
  private helper: DeadmanClient | undefined;
  private readonly latest = new Map<string, { deadline: number; payload: unknown }>();
  private restarts = 0;
  private failures = 0;
  private lastExit: DeadmanView['lastExit'] = null;
  private stopping = false;
  private adoptedAt = 0;

  constructor(opts: SupervisorOptions) {
    this.opts = opts;
  }

  /** The first helper: a start that cannot spawn one fails. */
  async start(): Promise<void> {
    this.opts.guard.down('starting');
    this.adopt(await DeadmanClient.spawn({ ...this.opts.spawn, log: this.opts.log }));
  }

  arm(group: string, deadline: number, payload: unknown): void {
    this.latest.set(group, { deadline, payload });
    this.opts.guard.requested(group, deadline);
    this.send(group);
  }

  /**
   * A batched renewal moved the deadline of groups already armed: one request for all of
   * them. A group the helper turns out not to hold (it was replaced meanwhile) is armed in full.
   */
  extend(groups: readonly string[], deadline: number): void {
    const moved: string[] = [];
    for (const group of groups) {
      const spec = this.latest.get(group);
      if (!spec) continue;
      spec.deadline = deadline;
      this.opts.guard.requested(group, deadline);
      moved.push(group);
    }
    const helper = this.helper;
    if (!helper || moved.length === 0 || this.opts.guard.state !== 'ready') return;
    this.opts.task(`extend ${moved.length} group(s)`, async () => {
      try {
        const missing = new Set(await helper.extend(moved, deadline));
        if (helper !== this.helper) return;
        for (const group of moved) {
          if (missing.has(group)) this.send(group);
          else this.opts.guard.acked(group, deadline);
        }
      } catch (err) {
        if (helper !== this.helper || this.stopping) return;
        // A helper that cannot take a request cannot fence either: replace it.
        this.opts.log.error(
          { groups: moved.length, err: (err as Error).message },
          'could not extend the deadman helper; restarting it',
        );
        helper.kill();
      }
    });
  }

  async disarm(group: string): Promise<void> {
    this.latest.delete(group);
    this.opts.guard.forget(group);
    await this.helper?.disarm(group).catch(() => undefined);
  }

  /** Stop guarding a group but leave the helper armed (a demote or abandon: it may still fence). */
  forget(group: string): void {
    this.opts.guard.forget(group);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.helper?.stop();
  }

  view(): DeadmanView {
    const { covered, uncovered } = this.opts.guard.coverage();
    return {
      state: this.opts.guard.state,
      pid: this.helper?.pid ?? null,
      restarts: this.restarts,
      armed: covered,
      unfenced: uncovered,
      lastExit: this.lastExit,
    };
  }

  private send(group: string): void {
    const helper = this.helper;
    const spec = this.latest.get(group);
    if (!helper || !spec || this.opts.guard.state !== 'ready') return;
    const { deadline, payload } = spec;
    this.opts.task(`arm ${group}`, async () => {
      try {
        await helper.arm(group, {
          deadlineMonoMs: deadline,
          actions: this.opts.actions(group),
          releasePayload: payload,
        });
        if (helper === this.helper) this.opts.guard.acked(group, deadline);
      } catch (err) {
        if (helper !== this.helper || this.stopping) return;
        // A helper that cannot take an arm cannot fence either: replace it.
        this.opts.log.error(
          { group, err: (err as Error).message },
          'could not arm the deadman helper; restarting it',
        );
        helper.kill();
      }
    });
  }

  private adopt(helper: DeadmanClient): void {
    this.helper = helper;
    this.adoptedAt = performance.now();
    helper.on((e) => {
      if (e.type !== 'exit' || e.expected || helper !== this.helper) return;
      this.helper = undefined;
      // Only for pacing restarts (a helper that keeps dying young), never for a decision.
      this.failures = performance.now() - this.adoptedAt >= HEALTHY_MS ? 0 : this.failures + 1;
      const how = e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
      this.lastExit = { code: e.code, signal: e.signal, reason: how };
      this.opts.guard.down();
      this.opts.onChange({
        state: 'down',
        reason: `deadman helper ${helper.pid ?? '?'} ${how}; restarting it`,
        restarts: this.restarts,
        pid: null,
      });
      this.respawn();
    });
    this.opts.guard.ready();
    for (const group of this.latest.keys()) this.send(group);
  }

  private respawn(): void {
    if (this.stopping) return;
    const delay = RETRY_MS[Math.min(this.failures, RETRY_MS.length - 1)]!;
    this.opts.after(delay, () =>
      this.opts.task('respawn deadman helper', async () => {
        if (this.stopping) return;
        this.opts.guard.down('starting');
        try {
          const helper = await DeadmanClient.spawn({ ...this.opts.spawn, log: this.opts.log });
          if (this.stopping) {
            await helper.stop();
            return;
          }
          this.restarts++;
          this.adopt(helper);
          this.opts.onChange({
            state: 'ready',
            reason: `deadman helper restarted (pid ${helper.pid ?? '?'}), re-armed ${this.latest.size} group(s)`,
            restarts: this.restarts,
            pid: helper.pid ?? null,
          });
        } catch (err) {
          this.failures++;
          this.opts.guard.down();
          this.opts.log.error(
            { err: (err as Error).message },
            'could not restart the deadman helper; retrying',
          );
          this.respawn();
        }
      }),
    );
  }
}
