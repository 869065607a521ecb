import { runCommand } from '../../exec/index.js';
import type { MonitorContext, MonitorInstance, MonitorPlugin, MonitorResult } from '../types.js';
import { type ScriptMonitorParams, scriptMonitorParams } from './params.js';

/** Status shows the last output; a probe's tail is plenty. */
const MAX_OUTPUT_BYTES = 8 * 1024;
const KILL_GRACE_MS = 1000;

/** Like haloEnv() for resources: who runs this probe, so one script can serve several monitors. */
function monitorEnv(ctx: MonitorContext): Record<string, string> {
  const env: Record<string, string> = {
    HALO_CLUSTER: ctx.cluster,
    HALO_NODE: ctx.node,
    HALO_MONITOR: ctx.monitor,
  };
  if (ctx.group !== undefined) env['HALO_GROUP'] = ctx.group;
  return env;
}

class ScriptMonitor implements MonitorInstance {
  constructor(private readonly params: ScriptMonitorParams) {}

  async probe(ctx: MonitorContext): Promise<MonitorResult> {
    try {
      const result = await runCommand(this.params.command, {
        env: { ...monitorEnv(ctx), ...this.params.env },
        cwd: this.params.cwd,
        user: this.params.user,
        // The engine aborts the signal at the monitor's timeout; the probe's tree dies with it.
        signal: ctx.signal,
        killGraceMs: KILL_GRACE_MS,
        maxOutputBytes: MAX_OUTPUT_BYTES,
      });
      const text = result.output.trim();
      const suffix = text ? `: ${text}` : '';
      if (result.aborted || result.timedOut) {
        return {
          ok: false,
          output: `no result after ${result.durationMs} ms; the probe was killed${suffix}`,
        };
      }
      if (result.spawnError) return { ok: false, output: `could not run the probe: ${result.spawnError}` };
      if (result.code === null)
        return { ok: false, output: `killed by ${result.signal ?? 'a signal'}${suffix}` };
      if (this.params.successCodes.includes(result.code)) {
        return { ok: true, output: text || `exit code ${result.code}` };
      }
      return { ok: false, output: `exit code ${result.code}${suffix}` };
    } catch (err) {
      return { ok: false, output: (err as Error).message };
    }
  }
}

export const scriptMonitor: MonitorPlugin<ScriptMonitorParams> = {
  type: 'script',
  description: 'Runs a command; healthy when its exit code is in successCodes.',
  params: scriptMonitorParams,
  target: 'optional',
  create: (_name, params) => new ScriptMonitor(params),
};
