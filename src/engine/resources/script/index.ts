import type { FenceAction } from '../../../coordination/deadman/fence-action.js';
import { HaloError } from '../../../errors.js';
import { formatDuration } from '../../../util/duration.js';
import {
  type Command,
  commandArgv,
  describeCommand,
  lastLine,
  type RunResult,
  runCommand,
} from '../../exec/index.js';
import {
  type CheckResult,
  haloEnv,
  type ResourceContext,
  type ResourceInstance,
  type ResourcePlugin,
} from '../types.js';
import { type ScriptParams, scriptParams } from './params.js';

type Op = 'start' | 'stop' | 'check';
type Identity = Pick<ResourceContext, 'cluster' | 'node' | 'group' | 'resource' | 'term'>;

/** Time a timed-out or aborted command's tree gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 3000;
/** OCF_NOT_RUNNING: the check's exit code for "cleanly stopped" (OCF resource agent API). */
const OCF_NOT_RUNNING = 7;

function describeExit(result: RunResult): string {
  if (result.spawnError) return `could not be started (${result.spawnError})`;
  if (result.code !== null) return `exited with code ${result.code}`;
  return `was killed by ${result.signal ?? 'a signal'}`;
}

class ScriptResource implements ResourceInstance {
  /** State as of the last start/stop, reported when there is no check command. */
  private recorded: CheckResult = { state: 'stopped', reason: 'not started by this agent' };
  /** Identity of the last operation, so the deadman helper's stop gets the same HALO_* environment. */
  private identity: Identity | undefined;

  constructor(
    private readonly name: string,
    private params: ScriptParams,
  ) {}

  private env(identity: Identity | undefined): Record<string, string> {
    return { ...(identity ? haloEnv(identity) : {}), ...this.params.env };
  }

  private async run(op: Op, cmd: Command, ctx: ResourceContext): Promise<RunResult> {
    this.identity = {
      cluster: ctx.cluster,
      node: ctx.node,
      group: ctx.group,
      resource: ctx.resource,
      term: ctx.term,
    };
    const result = await runCommand(cmd, {
      env: this.env(this.identity),
      cwd: this.params.cwd,
      user: this.params.user,
      signal: ctx.signal,
      timeoutMs: this.params.timeout[op],
      killGraceMs: KILL_GRACE_MS,
    });
    const fields = {
      resource: ctx.resource,
      op,
      code: result.code,
      signal: result.signal,
      timedOut: result.timedOut,
      aborted: result.aborted,
      durationMs: result.durationMs,
      output: result.output,
    };
    if (op === 'check') ctx.log.debug(fields, 'script check finished');
    else ctx.log.info(fields, `script ${op} finished`);
    return result;
  }

  private failure(op: 'start' | 'stop', cmd: Command, result: RunResult, ctx: ResourceContext): HaloError {
    const details = {
      resource: ctx.resource,
      op,
      command: describeCommand(cmd),
      code: result.code,
      signal: result.signal,
      timedOut: result.timedOut,
      aborted: result.aborted,
      output: result.output,
    };
    const timeout = formatDuration(this.params.timeout[op]);
    if (result.timedOut) {
      return new HaloError(
        op === 'start' ? 'HALO_E_RESOURCE_START_TIMEOUT' : 'HALO_E_RESOURCE_STOP_TIMEOUT',
        `${op} of resource "${this.name}" did not finish within ${timeout}; its process tree was killed (raise timeout.${op} if it needs longer)`,
        details,
      );
    }
    if (result.aborted) {
      const reason =
        ctx.signal.reason instanceof Error ? ctx.signal.reason.message : String(ctx.signal.reason);
      return new HaloError(
        'HALO_E_RESOURCE_CANCELLED',
        `${op} of resource "${this.name}" was cancelled (${reason}); its process tree was killed`,
        details,
      );
    }
    const tail = lastLine(result.output);
    return new HaloError(
      op === 'start' ? 'HALO_E_RESOURCE_START_FAILED' : 'HALO_E_RESOURCE_STOP_FAILED',
      `${op} of resource "${this.name}" ${describeExit(result)}${tail ? `: ${tail}` : ''}`,
      details,
    );
  }

  async start(ctx: ResourceContext): Promise<void> {
    const result = await this.run('start', this.params.start, ctx);
    if (!result.timedOut && !result.aborted && this.params.successCodes.includes(result.code ?? -1)) {
      this.recorded = { state: 'running', reason: 'start succeeded', output: result.output };
      return;
    }
    const error = this.failure('start', this.params.start, result, ctx);
    this.recorded = { state: 'failed', reason: error.message, output: result.output };
    throw error;
  }

  async stop(ctx: ResourceContext): Promise<void> {
    const result = await this.run('stop', this.params.stop, ctx);
    if (!result.timedOut && !result.aborted && this.params.successCodes.includes(result.code ?? -1)) {
      this.recorded = { state: 'stopped', reason: 'stop succeeded', output: result.output };
      return;
    }
    const error = this.failure('stop', this.params.stop, result, ctx);
    this.recorded = { state: 'failed', reason: error.message, output: result.output };
    throw error;
  }

  async check(ctx: ResourceContext): Promise<CheckResult> {
    const cmd = this.params.check;
    if (cmd === undefined) return { ...this.recorded };
    const result = await this.run('check', cmd, ctx);
    const output = result.output;
    if (result.timedOut) {
      return {
        state: 'failed',
        reason: `check did not finish within ${formatDuration(this.params.timeout.check)}`,
        output,
      };
    }
    if (result.aborted) return { state: 'failed', reason: 'check was cancelled', output };
    if (result.code === 0) return { state: 'running', reason: 'check exited with code 0', output };
    if (result.code === OCF_NOT_RUNNING)
      return { state: 'stopped', reason: 'check exited with code 7', output };
    const tail = lastLine(output);
    return { state: 'failed', reason: `check ${describeExit(result)}${tail ? `: ${tail}` : ''}`, output };
  }

  fenceActions(): FenceAction[] {
    let argv = commandArgv(this.params.stop);
    // The run action has no user field; runuser (util-linux) drops to the user and sets HOME/USER like we do.
    if (this.params.user !== undefined) argv = ['runuser', '-u', this.params.user, '--', ...argv];
    const action: FenceAction = {
      kind: 'run',
      argv,
      env: this.env(this.identity),
      timeoutMs: this.params.timeout.stop,
    };
    if (this.params.cwd !== undefined) action.cwd = this.params.cwd;
    return [action];
  }

  /** Applies the changed live keys (timeout, check); keys not given stay as they are. */
  async applyLive(params: Record<string, unknown>): Promise<void> {
    const next = params as Partial<ScriptParams>;
    if (next.timeout) this.params = { ...this.params, timeout: { ...this.params.timeout, ...next.timeout } };
    if ('check' in params) {
      this.params = { ...this.params };
      if (next.check === undefined) delete this.params.check;
      else this.params.check = next.check;
    }
  }
}

function validateScript(params: ScriptParams): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  if (params.cwd !== undefined && !params.cwd.startsWith('/')) {
    problems.push(['cwd', 'expected an absolute path']);
  }
  for (const key of ['start', 'stop', 'check'] as const) {
    const cmd = params[key];
    if (Array.isArray(cmd) && !cmd[0]) problems.push([`${key}[0]`, 'expected the program to run']);
    if (typeof cmd === 'string' && cmd.trim() === '') problems.push([key, 'expected a command']);
  }
  return problems;
}

export const scriptResource: ResourcePlugin<ScriptParams> = {
  type: 'script',
  description:
    'Runs your start, stop and optional check commands (OCF-style exit codes: check 0 = running, 7 = stopped).',
  params: scriptParams,
  validate: validateScript,
  paramModes: { timeout: 'live', check: 'live' },
  create: (name, params) => new ScriptResource(name, params),
};
