import type { CheckResult } from '../../resources/types.js';
import type { MonitorContext, MonitorInstance, MonitorPlugin, MonitorResult } from '../types.js';
import { type ResourceMonitorParams, resourceMonitorParams } from './params.js';

/** A target's check as a monitor result: healthy only while it says running. */
export async function probeTarget(ctx: MonitorContext): Promise<MonitorResult> {
  if (!ctx.checkTarget)
    return { ok: false, output: 'no target resource to check; set "target" on this monitor' };
  let result: CheckResult;
  try {
    result = await ctx.checkTarget();
  } catch (err) {
    return { ok: false, output: `check of the target failed: ${(err as Error).message}` };
  }
  return {
    ok: result.state === 'running',
    output: result.reason ? `${result.state}: ${result.reason}` : result.state,
    ...(result.hard && result.state === 'failed' ? { hard: true as const } : {}),
  };
}

class ResourceMonitor implements MonitorInstance {
  probe(ctx: MonitorContext): Promise<MonitorResult> {
    return probeTarget(ctx);
  }
}

export const resourceMonitor: MonitorPlugin<ResourceMonitorParams> = {
  type: 'resource',
  description: "Runs the target resource's own check; healthy while it reports running.",
  params: resourceMonitorParams,
  target: 'always',
  create: () => new ResourceMonitor(),
};
