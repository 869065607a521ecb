import type { GroupConfig, ResourceConfig } from '../config/model.js';
import { parseDuration } from '../util/duration.js';
import type { ProbeFinding } from './probe-decision.js';
import type { ResourceContext, ResourceInstance } from './resources/types.js';
import { errorText, type Outcome, runWithTimeout, type Timers } from './timers.js';

/**
 * Executes a group's start (resources in config order, which the config loader made a valid
 * dependency order) and stop (reverse order), each operation under the resource's timeout
 * with an AbortSignal. It never decides anything: a failed stop is reported as `stop-failed`
 * and the engine makes the lease run out instead of releasing, so the deadman fences this node
 * before any other node can start the group (docs/adr/0002-resource-contract.md).
 */

export type ResourceRunState = 'stopped' | 'starting' | 'running' | 'stopping' | 'failed';

export type GroupOpResult =
  | { status: 'ok' }
  /** Start failed (or was aborted); whatever had started was stopped again. */
  | { status: 'start-failed'; resource: string; reason: string; output?: string; aborted: boolean }
  /** A stop failed or timed out: resources may still run here. */
  | { status: 'stop-failed'; resource: string; reason: string; output?: string };

export interface OpTimeouts {
  start: number;
  stop: number;
  check: number;
}

export const DEFAULT_TIMEOUTS: OpTimeouts = Object.freeze({ start: 60_000, stop: 60_000, check: 20_000 });

/** `params.timeout.{start,stop,check}` in ms (or a duration string), else the defaults. */
export function opTimeouts(resource: ResourceConfig): OpTimeouts {
  const raw = resource.params['timeout'];
  const pick = (key: keyof OpTimeouts): number => {
    const value = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>)[key] : undefined;
    if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
    if (typeof value === 'string') return parseDuration(value) ?? DEFAULT_TIMEOUTS[key];
    return DEFAULT_TIMEOUTS[key];
  };
  return { start: pick('start'), stop: pick('stop'), check: pick('check') };
}

export interface GroupRunnerOptions {
  group: GroupConfig;
  timers: Timers;
  /** Current instance of a resource; called before every operation, so the engine can swap it. */
  instance: (resource: string) => ResourceInstance;
  context: (resource: string, term: string, signal: AbortSignal) => ResourceContext;
  /** Called before each start of a resource (applies pending restart parameters). */
  beforeStart?: (resource: string) => void;
  onChange: (resource: string, state: ResourceRunState, detail: OpDetail) => void;
}

export interface OpDetail {
  op: 'start' | 'stop';
  durationMs: number;
  reason?: string;
  output?: string;
}

export class GroupRunner {
  private readonly opts: GroupRunnerOptions;

  constructor(opts: GroupRunnerOptions) {
    this.opts = opts;
  }

  /** Starts every resource in order; on failure stops the started ones (and the failed one) in reverse. */
  async start(term: string, signal?: AbortSignal): Promise<GroupOpResult> {
    return this.startList(this.opts.group.resources, term, signal);
  }

  /** Stops every resource in reverse order (stop is idempotent); halts at the first failure. */
  async stop(term: string): Promise<GroupOpResult> {
    return this.stopList([...this.opts.group.resources].reverse(), term);
  }

  /**
   * Restarts one resource and everything that depends on it (transitively through `after`):
   * dependents stop first, then all start again in order. A failed start is not cleaned up
   * here: the engine fails the group over, which stops everything.
   */
  async restart(resource: string, term: string, signal?: AbortSignal): Promise<GroupOpResult> {
    const affected = dependentsOf(this.opts.group.resources, resource);
    const stopped = await this.stopList([...affected].reverse(), term);
    if (stopped.status !== 'ok') return stopped;
    for (const r of affected) {
      const result = await this.op(r, 'start', term, signal);
      if (result?.unsettled) return unknownState(r.name, result);
      if (result !== null) return { status: 'start-failed', resource: r.name, ...withoutFlag(result) };
    }
    return { status: 'ok' };
  }

  /**
   * Stops only `names` (copies a probe found where the group is not owned), in reverse start
   * order; halts at the first failure like `stop`.
   */
  async stopOnly(names: readonly string[], term: string): Promise<GroupOpResult> {
    const wanted = new Set(names);
    return this.stopList(
      [...this.opts.group.resources].reverse().filter((r) => wanted.has(r.name)),
      term,
    );
  }

  /**
   * Runs every resource's check (in start order, each under its check timeout) and reports
   * what each says about THIS node. A check that throws, hangs or is cut short counts as
   * `failed`: it cannot vouch that nothing runs.
   */
  async probe(term: string, signal?: AbortSignal): Promise<ProbeFinding[]> {
    const findings: ProbeFinding[] = [];
    for (const r of this.opts.group.resources) {
      const instance = this.opts.instance(r.name);
      const timeoutMs = opTimeouts(r).check;
      const outcome = await runWithTimeout(this.opts.timers, timeoutMs, signal, (s) =>
        instance.check(this.opts.context(r.name, term, s)),
      );
      if (outcome.status === 'done') findings.push({ resource: r.name, ...outcome.value });
      else if (outcome.status === 'aborted') break;
      else
        findings.push({
          resource: r.name,
          state: 'failed',
          reason:
            outcome.status === 'timeout'
              ? `check timed out after ${timeoutMs}ms`
              : `check failed: ${errorText(outcome.error)}`,
          ...(outcome.status === 'error' ? outputOf(outcome.error) : {}),
        });
    }
    return findings;
  }

  private async startList(
    list: ResourceConfig[],
    term: string,
    signal?: AbortSignal,
  ): Promise<GroupOpResult> {
    const touched: ResourceConfig[] = [];
    for (const r of list) {
      touched.push(r);
      const failure = await this.op(r, 'start', term, signal);
      if (failure === null) continue;
      const cleanup = await this.stopList(touched.reverse(), term);
      if (cleanup.status !== 'ok') return cleanup;
      // The start may still act after this stop (it never returned): only fencing is sure.
      if (failure.unsettled) return unknownState(r.name, failure);
      return { status: 'start-failed', resource: r.name, ...withoutFlag(failure) };
    }
    return { status: 'ok' };
  }

  private async stopList(list: ResourceConfig[], term: string): Promise<GroupOpResult> {
    for (const r of list) {
      const failure = await this.op(r, 'stop', term, undefined);
      if (failure !== null) {
        const { aborted: _aborted, ...rest } = withoutFlag(failure);
        return { status: 'stop-failed', resource: r.name, ...rest };
      }
    }
    return { status: 'ok' };
  }

  /** Runs one operation; null on success, else why it failed. */
  private async op(
    r: ResourceConfig,
    op: 'start' | 'stop',
    term: string,
    signal: AbortSignal | undefined,
  ): Promise<OpFailure | null> {
    const { timers, onChange } = this.opts;
    if (op === 'start') this.opts.beforeStart?.(r.name);
    const instance = this.opts.instance(r.name);
    const timeoutMs = opTimeouts(r)[op];
    onChange(r.name, op === 'start' ? 'starting' : 'stopping', { op, durationMs: 0 });
    const outcome: Outcome<void> = await runWithTimeout(
      timers,
      timeoutMs,
      signal,
      (s) => {
        const ctx = this.opts.context(r.name, term, s);
        return op === 'start' ? instance.start(ctx) : instance.stop(ctx);
      },
      // A stop that does not return is a failed stop anyway (fencing follows); a start must
      // have returned before anything stops it, or the stop could run before the start acts.
      op === 'start' ? { settleMs: startSettleMs(timeoutMs) } : {},
    );
    if (outcome.status === 'done') {
      onChange(r.name, op === 'start' ? 'running' : 'stopped', { op, durationMs: outcome.durationMs });
      return null;
    }
    const failure =
      outcome.status === 'error'
        ? { reason: errorText(outcome.error), ...outputOf(outcome.error), aborted: false }
        : outcome.status === 'timeout'
          ? { reason: `${op} timed out after ${timeoutMs}ms`, aborted: false }
          : { reason: `${op} aborted`, aborted: true };
    onChange(r.name, 'failed', { op, durationMs: outcome.durationMs, ...failure });
    return outcome.status !== 'error' && outcome.unsettled ? { ...failure, unsettled: true } : failure;
  }
}

interface OpFailure {
  reason: string;
  output?: string;
  aborted: boolean;
  /** A timed-out or aborted start that had still not returned when we stopped waiting. */
  unsettled?: true;
}

/** The longest a start is waited for after its timeout, however long the timeout itself. */
const SETTLE_GRACE_MAX_MS = 5_000;

/**
 * How long a timed-out or aborted start is still waited for: an abort leaves the start the
 * rest of its own timeout (it was allowed that long anyway), a timeout a short grace for the
 * plugin to kill what it ran.
 */
export function startSettleMs(timeoutMs: number) {
  const grace = Math.min(timeoutMs, SETTLE_GRACE_MAX_MS);
  return (status: 'timeout' | 'aborted', elapsedMs: number): number =>
    status === 'aborted' ? Math.max(timeoutMs - elapsedMs, grace) : grace;
}

function withoutFlag(failure: OpFailure): Omit<OpFailure, 'unsettled'> {
  const { unsettled: _unsettled, ...rest } = failure;
  return rest;
}

/** A start that never returned: whether it acted is unknown, so the engine must fence. */
function unknownState(resource: string, failure: OpFailure): GroupOpResult {
  return {
    status: 'stop-failed',
    resource,
    reason: `${failure.reason}, and the start still had not returned after ${failure.aborted ? 'the abort' : 'the timeout'}: its state is unknown`,
  };
}

/** `resource` and every resource that depends on it, in config (start) order. */
export function dependentsOf(resources: ResourceConfig[], resource: string): ResourceConfig[] {
  const affected = new Set([resource]);
  for (const r of resources) {
    if (r.after.some((dep) => affected.has(dep))) affected.add(r.name);
  }
  return resources.filter((r) => affected.has(r.name));
}

/** Resource errors may carry the command's output (`output` or `details.output`). */
function outputOf(error: unknown): { output?: string } {
  if (error === null || typeof error !== 'object') return {};
  const e = error as { output?: unknown; details?: { output?: unknown } };
  const output = typeof e.output === 'string' ? e.output : e.details?.output;
  return typeof output === 'string' ? { output } : {};
}
