import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FenceAction } from '../../../coordination/deadman/fence-action.js';
import { HaloError } from '../../../errors.js';
import { childLogger } from '../../../log.js';
import { formatDuration } from '../../../util/duration.js';
import { describeCommand, lastLine, runCommand, terminateTree } from '../../exec/index.js';
import {
  type CheckResult,
  haloEnv,
  type ResourceContext,
  type ResourceInstance,
  type ResourcePlugin,
} from '../types.js';
import { type ProcessParams, processParams } from './params.js';
import { describeCopies, findStrayCopies, markerOf, type StrayCopy } from './stray-copies.js';
import { type ExitInfo, SupervisedChild } from './supervised-child.js';

/** How often readyCheck runs while the program starts. */
const READY_POLL_MS = 250;
/** Longest single readyCheck run (the start timeout bounds the whole wait). */
const READY_CHECK_MAX_MS = 10_000;
/** Grace between stopSignal and SIGKILL when a start fails or is cancelled. */
const FAILED_START_GRACE_MS = 2000;

export interface ProcessResourceInstance extends ResourceInstance {
  /** PID of the program (the leader of its process group) while it runs. */
  pid(): number | undefined;
}

function describeExitInfo(info: ExitInfo): string {
  return info.code !== null ? `exited with code ${info.code}` : `was killed by ${info.signal ?? 'a signal'}`;
}

type StartOutcome =
  | { kind: 'ready' }
  | { kind: 'exited'; info: ExitInfo }
  | { kind: 'timeout' }
  | { kind: 'aborted' };

class ProcessResource implements ProcessResourceInstance {
  private child: SupervisedChild | undefined;
  /** Set when stop was asked for, so the exit that follows is not reported as a failure. */
  private stopRequested = false;

  constructor(
    private readonly name: string,
    private params: ProcessParams,
  ) {}

  pid(): number | undefined {
    return this.child?.alive ? this.child.pid : undefined;
  }

  /** STATE_DIR/output/GROUP.RESOURCE.log: the program's stdout and stderr (docs/operations.md). */
  private outputFile(ctx: ResourceContext): string {
    return join(ctx.stateDir, 'output', `${ctx.group}.${ctx.resource}.log`);
  }

  private env(ctx: ResourceContext): Record<string, string> {
    return { ...haloEnv(ctx), ...this.params.env };
  }

  async start(ctx: ResourceContext): Promise<void> {
    if (this.child?.alive && !this.stopRequested) return;
    // Leftovers of an earlier run that died (its group may live on) go first, and so do copies
    // this agent did not start (an earlier agent's, found by their environment): one copy only.
    await this.stop(ctx);
    if (ctx.signal.aborted) throw this.cancelled(ctx, 'start', '');

    this.stopRequested = false;
    let child: SupervisedChild;
    try {
      child = await SupervisedChild.spawn(this.params.command, {
        env: this.env(ctx),
        cwd: this.params.cwd,
        user: this.params.user,
        log: childLogger(ctx.log, { resource: ctx.resource }),
        outputFile: this.outputFile(ctx),
      });
    } catch (err) {
      if (err instanceof HaloError) throw err;
      throw new HaloError(
        'HALO_E_RESOURCE_START_FAILED',
        `process resource "${this.name}" could not be started: ${(err as Error).message}`,
        { resource: ctx.resource, command: describeCommand(this.params.command) },
      );
    }
    this.child = child;
    ctx.log.info({ resource: ctx.resource, pid: child.pid, output: this.outputFile(ctx) }, 'process spawned');
    void child.exited.then((info) => {
      if (!this.stopRequested && this.child === child) {
        // The output itself is in the file: a program that printed megabytes before dying must
        // not turn this warning into a 64 KiB log record (journald and log shippers cut or drop those).
        const tail = lastLine(child.output.text());
        ctx.log.warn(
          {
            resource: ctx.resource,
            pid: child.pid,
            ...info,
            output: this.outputFile(ctx),
            ...(tail ? { lastLine: tail } : {}),
          },
          'process exited unexpectedly',
        );
      }
    });

    const outcome = await this.awaitReady(child, ctx);
    if (outcome.kind === 'ready') {
      ctx.log.info({ resource: ctx.resource, pid: child.pid }, 'process started');
      return;
    }
    // Failed start: end whatever is left of the tree, then report with the program's output.
    this.stopRequested = true;
    await terminateTree(child.pid, {
      signal: this.params.stopSignal,
      graceMs: FAILED_START_GRACE_MS,
      includeRoot: child.alive,
    });
    await child.exited;
    const output = child.output.text();
    const details = { resource: ctx.resource, pid: child.pid, output };
    if (outcome.kind === 'exited') {
      const tail = lastLine(output);
      throw new HaloError(
        'HALO_E_RESOURCE_START_FAILED',
        `process resource "${this.name}" ${describeExitInfo(outcome.info)} during start${tail ? `: ${tail}` : ''}`,
        { ...details, code: outcome.info.code, signal: outcome.info.signal },
      );
    }
    if (outcome.kind === 'timeout') {
      const what = this.params.readyCheck ? 'its readyCheck did not pass' : 'it did not stay up';
      throw new HaloError(
        'HALO_E_RESOURCE_START_TIMEOUT',
        `process resource "${this.name}" was not ready within ${formatDuration(this.params.timeout.start)} (${what}); its process tree was killed`,
        details,
      );
    }
    throw this.cancelled(ctx, 'start', output);
  }

  private cancelled(ctx: ResourceContext, op: string, output: string): HaloError {
    const reason = ctx.signal.reason instanceof Error ? ctx.signal.reason.message : String(ctx.signal.reason);
    return new HaloError(
      'HALO_E_RESOURCE_CANCELLED',
      `${op} of process resource "${this.name}" was cancelled (${reason})`,
      {
        resource: ctx.resource,
        output,
      },
    );
  }

  /** Waits for startGrace or a passing readyCheck, whichever applies, against exit, timeout and abort. */
  private async awaitReady(child: SupervisedChild, ctx: ResourceContext): Promise<StartOutcome> {
    const local = new AbortController();
    const both = AbortSignal.any([local.signal, ctx.signal]);
    const contenders: Array<Promise<StartOutcome>> = [
      child.exited.then((info) => ({ kind: 'exited', info })),
      sleep(this.params.timeout.start, undefined, { signal: both }).then(
        (): StartOutcome => ({ kind: 'timeout' }),
        (): StartOutcome => ({ kind: 'aborted' }),
      ),
      this.readiness(child, ctx, both),
    ];
    try {
      const outcome = await Promise.race(contenders);
      // An abort of the engine wins over a simultaneous readiness.
      return ctx.signal.aborted ? { kind: 'aborted' } : outcome;
    } finally {
      local.abort();
    }
  }

  private async readiness(
    child: SupervisedChild,
    ctx: ResourceContext,
    signal: AbortSignal,
  ): Promise<StartOutcome> {
    const never = new Promise<StartOutcome>(() => {});
    const readyCheck = this.params.readyCheck;
    try {
      if (readyCheck === undefined) {
        await sleep(this.params.startGrace, undefined, { signal });
        return child.alive ? { kind: 'ready' } : never;
      }
      for (;;) {
        const result = await runCommand(readyCheck, {
          env: this.env(ctx),
          cwd: this.params.cwd,
          user: this.params.user,
          signal,
          timeoutMs: READY_CHECK_MAX_MS,
        });
        if (signal.aborted) return never;
        if (result.code === 0 && child.alive) return { kind: 'ready' };
        ctx.log.debug(
          { resource: ctx.resource, code: result.code, output: result.output },
          'readyCheck not passing',
        );
        await sleep(READY_POLL_MS, undefined, { signal });
      }
    } catch {
      // Aborted: another contender already decided.
      return never;
    }
  }

  async stop(ctx: ResourceContext): Promise<void> {
    await this.stopOwn(ctx);
    await this.stopStrays(ctx);
  }

  /** Ends every copy of this resource on this node that this agent did not start. */
  private async stopStrays(ctx: ResourceContext): Promise<void> {
    const copies = await findStrayCopies(markerOf(ctx));
    if (copies.length === 0) return;
    ctx.log.warn({ resource: ctx.resource, copies }, 'stopping copies this agent did not start');
    const remaining: number[] = [];
    for (const copy of copies) {
      const result = await terminateTree(copy.pid, {
        signal: this.params.stopSignal,
        graceMs: this.params.timeout.stop,
        hurry: ctx.signal,
      });
      remaining.push(...result.remaining);
    }
    if (remaining.length > 0) {
      throw new HaloError(
        'HALO_E_RESOURCE_UNKILLABLE',
        `process resource "${this.name}": copies not started by this agent did not exit even after SIGKILL (PIDs ${remaining.join(', ')}); the node must fence itself`,
        { resource: ctx.resource, pids: remaining, output: describeCopies(copies) },
      );
    }
  }

  private async stopOwn(ctx: ResourceContext): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.stopRequested = true;
    // With the leader gone its PID may be reused; only its process group (whose id the kernel
    // does not hand out while members remain) still identifies the leftovers.
    const result = await terminateTree(child.pid, {
      signal: this.params.stopSignal,
      graceMs: this.params.timeout.stop,
      hurry: ctx.signal,
      includeRoot: child.alive,
    });
    if (result.remaining.length > 0) {
      throw new HaloError(
        'HALO_E_RESOURCE_UNKILLABLE',
        `process resource "${this.name}" did not exit even after SIGKILL (PIDs ${result.remaining.join(', ')}); the node must fence itself`,
        { resource: ctx.resource, pids: result.remaining },
      );
    }
    await child.exited;
    if (result.escalated) {
      ctx.log.warn(
        { resource: ctx.resource, pid: child.pid, signal: this.params.stopSignal },
        'process tree ignored the stop signal and was killed',
      );
    }
    ctx.log.info({ resource: ctx.resource, pid: child.pid }, 'process stopped');
    if (this.child === child) this.child = undefined;
  }

  async check(ctx: ResourceContext): Promise<CheckResult> {
    const child = this.child;
    if (child?.alive) return { state: 'running', reason: `pid ${child.pid} is alive` };
    // Not running under this agent: a copy may still run here (see stray-copies.ts).
    const strays = await findStrayCopies(markerOf(ctx), child?.pid);
    if (strays.length > 0) return strayResult(strays);
    if (!child) return { state: 'stopped', reason: 'not running' };
    if (this.stopRequested) return { state: 'stopped', reason: 'stopped' };
    const info = child.exitInfo ?? { code: null, signal: null };
    const output = child.output.text();
    const tail = lastLine(output);
    return {
      state: 'failed',
      reason: `pid ${child.pid} ${describeExitInfo(info)}${tail ? `: ${tail}` : ''}`,
      output,
    };
  }

  fenceActions(): FenceAction[] {
    // The leader's PID is also its process group id: the deadman helper ends the whole group.
    return this.child ? [{ kind: 'kill-tree', pid: this.child.pid, signal: this.params.stopSignal }] : [];
  }

  /** Applies the changed live keys; they matter only at the next start or stop. Keys not given stay. */
  async applyLive(params: Record<string, unknown>): Promise<void> {
    const next = params as Partial<ProcessParams>;
    const merged: ProcessParams = { ...this.params };
    if (next.timeout) merged.timeout = { ...this.params.timeout, ...next.timeout };
    if (next.stopSignal) merged.stopSignal = next.stopSignal;
    if (next.startGrace !== undefined) merged.startGrace = next.startGrace;
    if ('readyCheck' in params) {
      if (next.readyCheck === undefined) delete merged.readyCheck;
      else merged.readyCheck = next.readyCheck;
    }
    this.params = merged;
  }
}

function strayResult(copies: StrayCopy[]): CheckResult {
  const pids = copies.map((c) => c.pid).join(', ');
  return {
    state: 'running',
    reason: `not started by this agent: ${copies.length === 1 ? 'pid' : 'pids'} ${pids} ${copies.length === 1 ? 'runs' : 'run'} here`,
    output: describeCopies(copies),
  };
}

function validateProcess(params: ProcessParams): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  if (params.cwd !== undefined && !params.cwd.startsWith('/'))
    problems.push(['cwd', 'expected an absolute path']);
  if (Array.isArray(params.command) && !params.command[0])
    problems.push(['command[0]', 'expected the program to run']);
  if (params.readyCheck === undefined && params.startGrace >= params.timeout.start) {
    problems.push(['startGrace', 'must be shorter than timeout.start']);
  }
  return problems;
}

export const processResource: ResourcePlugin<ProcessParams> = {
  type: 'process',
  description:
    'A long-running program supervised by the agent (no pidfile); stop ends its whole process tree.',
  params: processParams,
  validate: validateProcess,
  paramModes: { timeout: 'live', stopSignal: 'live', startGrace: 'live', readyCheck: 'live' },
  create: (name, params): ProcessResourceInstance => new ProcessResource(name, params),
};
