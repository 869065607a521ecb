import { mkdir } from 'node:fs/promises';
import type { FenceAction } from '../../../coordination/deadman/fence-action.js';
import { HaloError } from '../../../errors.js';
import { formatDuration } from '../../../util/duration.js';
import { lastLine, type RunResult, runCommand } from '../../exec/index.js';
import {
  type CheckResult,
  haloEnv,
  type ResourceContext,
  type ResourceInstance,
  type ResourcePlugin,
} from '../types.js';
import { type AgentName, agentPath, ocfRoot, parseAgent } from './agent-path.js';
import {
  describeOcfCode,
  exitReason,
  isHardError,
  OCF_ERR_INSTALLED,
  OCF_FAILED_PROMOTED,
  OCF_NOT_RUNNING,
  OCF_RUNNING_PROMOTED,
  OCF_SUCCESS,
} from './exit-codes.js';
import { readMetaData } from './meta-data.js';
import { type OcfParams, ocfParams } from './params.js';
import { completeOcf, type OcfTimeouts, ocfTimeouts, validateOcf } from './validate.js';

/**
 * Runs an OCF resource agent (ClusterLabs resource-agents, OCF Resource Agent API 1.1) the way
 * Pacemaker's executor does: the agent program with the action as its only argument, the
 * parameters as OCF_RESKEY_<name>, and the environment ocf-shellfuncs expects. `validate-all`
 * runs before every start (when the agent advertises it), `monitor` is both the probe (is it
 * running here? OCF_RESKEY_CRM_meta_interval=0, as Pacemaker probes) and the check behind a
 * `resource` monitor (the monitor's interval). Promotable agents (promote/demote) are not
 * supported: they are run as plain start/stop/monitor resources.
 */

type Op = 'start' | 'stop' | 'monitor' | 'validate-all';
type Identity = Pick<ResourceContext, 'cluster' | 'node' | 'group' | 'resource' | 'term' | 'stateDir'>;

/** Time a timed-out agent's process tree gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 3000;

class OcfResource implements ResourceInstance {
  private readonly agent: AgentName;
  private readonly path: string;
  private readonly root: string;
  private readonly timeouts: OcfTimeouts;
  private readonly hasValidate: boolean;
  private identity: Identity | undefined;

  constructor(
    private readonly name: string,
    private readonly params: OcfParams,
  ) {
    // The schema and validateOcf let only well-formed names through.
    this.agent = parseAgent(params.agent) ?? { spec: params.agent, provider: '', type: '' };
    this.root = ocfRoot();
    this.path = agentPath(this.agent, this.root);
    this.timeouts = ocfTimeouts(params);
    const md = readMetaData(this.agent, this.root);
    this.hasValidate = md.ok && md.meta.actions.some((a) => a.name === 'validate-all');
  }

  /** The environment Pacemaker's executor gives an agent (what ocf-shellfuncs and common agents read). */
  private env(
    op: Op,
    identity: Identity | undefined,
    timeoutMs: number,
    intervalMs = 0,
  ): Record<string, string> {
    const env: Record<string, string> = {
      ...(identity ? haloEnv(identity) : {}),
      OCF_ROOT: this.root,
      OCF_RA_VERSION_MAJOR: '1',
      OCF_RA_VERSION_MINOR: '1',
      OCF_RESOURCE_TYPE: this.agent.type,
      OCF_RESOURCE_PROVIDER: this.agent.provider,
      // Unique per node: resource names are only unique within a group.
      OCF_RESOURCE_INSTANCE: identity ? `${identity.group}-${identity.resource}` : this.name,
      OCF_RESKEY_CRM_meta_name: op,
      OCF_RESKEY_CRM_meta_timeout: String(timeoutMs),
      OCF_RESKEY_CRM_meta_interval: String(intervalMs),
    };
    if (identity) {
      env['OCF_RESKEY_CRM_meta_on_node'] = identity.node;
      env['OCF_RESKEY_CRM_meta_on_node_uuid'] = identity.node;
      env['OCF_RESKEY_CRM_meta_cluster_name'] = identity.cluster;
      // ocf-directories defaults HA_RSCTMP to /run/resource-agents, shared by every agent on the
      // machine; each Halo node gets its own (two nodes of a test cluster share one machine).
      env['HA_RSCTMP'] = `${identity.stateDir}/ocf-rsctmp`;
    }
    for (const [key, value] of Object.entries(this.params.params ?? {})) {
      env[`OCF_RESKEY_${key}`] = typeof value === 'boolean' ? (value ? 'true' : 'false') : String(value);
    }
    return env;
  }

  private async run(op: Op, ctx: ResourceContext, timeoutMs: number, intervalMs = 0): Promise<RunResult> {
    this.identity = {
      cluster: ctx.cluster,
      node: ctx.node,
      group: ctx.group,
      resource: ctx.resource,
      term: ctx.term,
      stateDir: ctx.stateDir,
    };
    await mkdir(`${ctx.stateDir}/ocf-rsctmp`, { recursive: true, mode: 0o755 }).catch(() => undefined);
    const result = await runCommand([this.path, op], {
      env: this.env(op, this.identity, timeoutMs, intervalMs),
      signal: ctx.signal,
      timeoutMs,
      killGraceMs: KILL_GRACE_MS,
    });
    const fields = {
      resource: ctx.resource,
      agent: this.agent.spec,
      op,
      code: result.code,
      signal: result.signal,
      timedOut: result.timedOut,
      aborted: result.aborted,
      durationMs: result.durationMs,
      output: result.output,
    };
    if (op === 'monitor') ctx.log.debug(fields, 'ocf monitor finished');
    else ctx.log.info(fields, `ocf ${op} finished`);
    return result;
  }

  /** What went wrong, in words: the OCF code and its meaning, and the agent's own reason. */
  private why(result: RunResult): string {
    if (result.spawnError) return `could not be run (${result.spawnError})`;
    if (result.code === null) return `was killed by ${result.signal ?? 'a signal'}`;
    const reason = exitReason(result.output) ?? lastLine(result.output);
    return `exited with ${describeOcfCode(result.code)}${reason ? `: ${reason}` : ''}`;
  }

  private failure(op: Op, result: RunResult, ctx: ResourceContext, timeoutMs: number): HaloError {
    const stopping = op === 'stop';
    const details = {
      resource: ctx.resource,
      agent: this.agent.spec,
      op,
      code: result.code,
      signal: result.signal,
      timedOut: result.timedOut,
      aborted: result.aborted,
      hard: result.code !== null && isHardError(result.code),
      output: result.output,
    };
    const what = `${op} of resource "${this.name}" (${this.agent.spec})`;
    if (result.timedOut) {
      return new HaloError(
        stopping ? 'HALO_E_RESOURCE_STOP_TIMEOUT' : 'HALO_E_RESOURCE_START_TIMEOUT',
        `${what} did not finish within ${formatDuration(timeoutMs)}; its process tree was killed (raise timeout.${stopping ? 'stop' : 'start'} if it needs longer)`,
        details,
      );
    }
    if (result.aborted) {
      const reason =
        ctx.signal.reason instanceof Error ? ctx.signal.reason.message : String(ctx.signal.reason);
      return new HaloError('HALO_E_RESOURCE_CANCELLED', `${what} was cancelled (${reason})`, details);
    }
    return new HaloError(
      stopping ? 'HALO_E_RESOURCE_STOP_FAILED' : 'HALO_E_RESOURCE_START_FAILED',
      `${what} ${this.why(result)}`,
      details,
    );
  }

  async start(ctx: ResourceContext): Promise<void> {
    // OCF: validate-all checks the configuration before anything is touched.
    if (this.hasValidate) {
      const checked = await this.run('validate-all', ctx, this.timeouts.start);
      if (checked.timedOut || checked.aborted || checked.code !== OCF_SUCCESS)
        throw this.failure('validate-all', checked, ctx, this.timeouts.start);
    }
    const result = await this.run('start', ctx, this.timeouts.start);
    if (!result.timedOut && !result.aborted && result.code === OCF_SUCCESS) return;
    throw this.failure('start', result, ctx, this.timeouts.start);
  }

  async stop(ctx: ResourceContext): Promise<void> {
    const result = await this.run('stop', ctx, this.timeouts.stop);
    // "Not running" is what a stop is for; agents should say 0, some say 7.
    if (
      !result.timedOut &&
      !result.aborted &&
      (result.code === OCF_SUCCESS || result.code === OCF_NOT_RUNNING)
    )
      return;
    throw this.failure('stop', result, ctx, this.timeouts.stop);
  }

  async check(ctx: ResourceContext): Promise<CheckResult> {
    const probe = ctx.monitorIntervalMs === undefined;
    const result = await this.run('monitor', ctx, this.timeouts.check, ctx.monitorIntervalMs ?? 0);
    const output = result.output;
    if (result.timedOut)
      return {
        state: 'failed',
        reason: `monitor did not finish within ${formatDuration(this.timeouts.check)}`,
        output,
      };
    if (result.aborted) return { state: 'failed', reason: 'monitor was cancelled', output };
    const code = result.code;
    if (code === OCF_SUCCESS || code === OCF_RUNNING_PROMOTED)
      return { state: 'running', reason: `monitor exited with ${describeOcfCode(code)}`, output };
    if (code === OCF_NOT_RUNNING) return { state: 'stopped', reason: `monitor: ${this.why(result)}`, output };
    // Pacemaker reads a probe's OCF_ERR_INSTALLED as "cannot run here, so not running here".
    if (probe && (code === OCF_ERR_INSTALLED || result.spawnError))
      return { state: 'stopped', reason: `probe: ${this.why(result)}`, output };
    const hard = code !== null && code !== OCF_FAILED_PROMOTED && isHardError(code);
    return {
      state: 'failed',
      reason: `monitor ${this.why(result)}`,
      output,
      ...(hard ? { hard: true } : {}),
    };
  }

  fenceActions(): FenceAction[] {
    return [
      {
        kind: 'run',
        argv: [this.path, 'stop'],
        env: this.env('stop', this.identity, this.timeouts.stop),
        timeoutMs: this.timeouts.stop,
      },
    ];
  }
}

export const ocfResource: ResourcePlugin<OcfParams> = {
  type: 'ocf',
  description:
    "Runs an OCF resource agent (e.g. ocf:heartbeat:IPaddr2 from Debian's resource-agents) like Pacemaker does: params as OCF_RESKEY_*, validate-all before start, monitor as check, OCF exit codes.",
  params: ocfParams,
  validate: validateOcf,
  complete: completeOcf,
  paramModes: {},
  create: (name, params) => new OcfResource(name, params),
};
