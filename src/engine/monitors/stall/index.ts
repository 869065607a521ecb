import type { MonitorContext, MonitorInstance, MonitorPlugin, MonitorResult } from '../types.js';
import { type StallMonitorParams, stallMonitorParams } from './params.js';

class StallMonitor implements MonitorInstance {
  constructor(private readonly params: StallMonitorParams) {}

  async probe(ctx: MonitorContext): Promise<MonitorResult> {
    if (!ctx.agentHealth) return { ok: false, output: 'agent health figures are not available' };
    const { eventLoopLagMs, lastTickAgoMs } = ctx.agentHealth();
    const lag = Math.round(eventLoopLagMs);
    const output = `event-loop lag ${lag} ms (limit ${this.params.maxLag} ms), last tick ${Math.round(lastTickAgoMs)} ms ago`;
    return { ok: eventLoopLagMs <= this.params.maxLag, output };
  }
}

export const stallMonitor: MonitorPlugin<StallMonitorParams> = {
  type: 'stall',
  description:
    "Healthy while the agent's own event-loop lag (the worst of the last 5–10 s) stays within maxLag (the node can still act in time).",
  params: stallMonitorParams,
  target: 'never',
  create: (_name, params) => new StallMonitor(params),
};
