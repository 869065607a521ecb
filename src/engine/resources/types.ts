import type { ResourceSpec } from '../../config/catalog.js';
import type { FenceAction } from '../../coordination/deadman/fence-action.js';
import type { Logger } from '../../log.js';

/**
 * The resource contract (OCF-like):
 * - `spec.validate` runs when the config is loaded, before anything is touched;
 * - `start` and `stop` are idempotent (stopping a stopped resource succeeds);
 * - `check` tells running / stopped / failed apart, with a reason;
 * - every operation runs under a manager-enforced timeout and must honour `ctx.signal`.
 */

export type ResourceState = 'running' | 'stopped' | 'failed';

export interface CheckResult {
  state: ResourceState;
  reason?: string;
  /** Captured output of a check command, if any. */
  output?: string;
  /**
   * A failure that retrying on this node cannot fix (an OCF agent's hard error: not installed,
   * not configured, no permission): monitors skip their retries and restarts and go straight to
   * `onFailure.then`, as Pacemaker bans a resource from a node after a hard error.
   */
  hard?: true;
}

/** Whether changing a parameter applies at once or only when the resource restarts (WSFC semantics). */
export type ParamMode = 'live' | 'restart';

/** What every operation gets. */
export interface ResourceContext {
  cluster: string;
  node: string;
  group: string;
  resource: string;
  /**
   * The lease term of this activation. It only grows, so a protected target that remembers the
   * highest term it has seen can refuse writes from an older owner (a fencing token).
   */
  term: string;
  /** Aborted when the manager's timeout for this operation elapses or the agent demotes. */
  signal: AbortSignal;
  log: Logger;
  /** Per-node state directory (survives agent restarts). */
  stateDir: string;
  /**
   * For `check` only: set when a monitor of the running group runs the check (its interval);
   * absent when the check is a probe ("does it run here?"). OCF agents are told which.
   */
  monitorIntervalMs?: number;
}

/** Environment for every command a resource or monitor runs: who runs it, for which group and term. */
export function haloEnv(ctx: Pick<ResourceContext, 'cluster' | 'node' | 'group' | 'resource' | 'term'>) {
  return {
    HALO_CLUSTER: ctx.cluster,
    HALO_NODE: ctx.node,
    HALO_GROUP: ctx.group,
    HALO_RESOURCE: ctx.resource,
    HALO_TERM: ctx.term,
  };
}

export interface ResourceInstance {
  start(ctx: ResourceContext): Promise<void>;
  stop(ctx: ResourceContext): Promise<void>;
  check(ctx: ResourceContext): Promise<CheckResult>;
  /** How the deadman helper stops this resource without the agent. */
  fenceActions(): FenceAction[];
  /** Apply changed live parameters to a running resource. */
  applyLive?(params: Record<string, unknown>, ctx: ResourceContext): Promise<void>;
  /**
   * For resources whose state follows the group's health (lb-probe's `healthGate`): the engine
   * calls this with every result of a monitor of the same group (`monitor` is its bare name),
   * with `ok: false` when the monitor stops running while the group runs, and with `ok: true`
   * while it is suspended (a suspended monitor says nothing about health). Must not throw or block.
   */
  onMonitorResult?(monitor: string, ok: boolean, reason: string): void;
}

/**
 * One resource plugin: a single plain object that is both its spec (type, description,
 * parameter schema and config-time checks: everything the config layer and the generated docs
 * read, see src/config/catalog.ts) and its implementation (how parameters apply, `create`).
 * The config layer only ever sees it as a ResourceSpec. The built-ins are listed once, in
 * registry.ts.
 */
export interface ResourcePlugin<P extends Record<string, unknown> = Record<string, unknown>>
  extends ResourceSpec<P> {
  /** Mode of each parameter; keys not listed are `restart`. */
  paramModes: Partial<Record<keyof P & string, ParamMode>>;
  create(name: string, params: P): ResourceInstance;
}
