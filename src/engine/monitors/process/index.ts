import { findProcesses } from '../../exec/index.js';
import { probeTarget } from '../resource/index.js';
import type { MonitorContext, MonitorInstance, MonitorPlugin, MonitorResult } from '../types.js';
import { type ProcessMonitorParams, processMonitorParams } from './params.js';

/** How many matching processes the output lists. */
const LISTED = 5;
const CMDLINE_SHOWN = 80;

class ProcessMonitor implements MonitorInstance {
  private readonly pattern: RegExp | undefined;

  constructor(private readonly params: ProcessMonitorParams) {
    this.pattern = params.match === undefined ? undefined : new RegExp(params.match);
  }

  async probe(ctx: MonitorContext): Promise<MonitorResult> {
    // Without `match` the target is a process resource, which knows its own leader PID.
    if (!this.pattern) return probeTarget(ctx);
    const found = await findProcesses(this.pattern);
    const need = this.params.minCount;
    const head = `${found.length} process${found.length === 1 ? '' : 'es'} match /${this.params.match}/ (need ${need})`;
    const listed = found
      .slice(0, LISTED)
      .map(
        ({ pid, cmdline }) =>
          `${pid} ${cmdline.length > CMDLINE_SHOWN ? `${cmdline.slice(0, CMDLINE_SHOWN)}…` : cmdline}`,
      );
    const more = found.length > LISTED ? `; … ${found.length - LISTED} more` : '';
    return {
      ok: found.length >= need,
      output: listed.length > 0 ? `${head}: ${listed.join('; ')}${more}` : head,
    };
  }
}

export const processMonitor: MonitorPlugin<ProcessMonitorParams> = {
  type: 'process',
  description:
    'Healthy while at least minCount processes have a command line matching `match`; without `match`, while the target process resource runs.',
  params: processMonitorParams,
  // Only a monitor without `match` needs a target; the spec has no per-params flag, so
  // such a monitor without one reports the missing target in its output.
  target: 'optional',
  create: (_name, params) => new ProcessMonitor(params),
};
