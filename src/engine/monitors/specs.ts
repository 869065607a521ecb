import type { z } from 'zod';
import { httpMonitorParams } from './http/params.js';
import { processMonitorParams } from './process/params.js';
import { resourceMonitorParams } from './resource/params.js';
import { scriptMonitorParams } from './script/params.js';
import { stallMonitorParams } from './stall/params.js';
import { tcpMonitorParams } from './tcp/params.js';

/** The schema side of every monitor type (see resources/specs.ts for why it is separate). */
export interface MonitorSpec {
  description: string;
  params: z.ZodObject;
  /** `always`: needs a `target`; `never`: must not have one; `optional`. */
  target: 'always' | 'never' | 'optional';
}

export const monitorSpecs: ReadonlyMap<string, MonitorSpec> = new Map<string, MonitorSpec>([
  [
    'script',
    {
      description: 'Runs a command; healthy when it exits with a success code.',
      params: scriptMonitorParams,
      target: 'optional',
    },
  ],
  [
    'tcp',
    {
      description: 'Healthy when a TCP connection to host:port succeeds.',
      params: tcpMonitorParams,
      target: 'optional',
    },
  ],
  [
    'http',
    {
      description: 'Healthy when an HTTP GET returns an expected status.',
      params: httpMonitorParams,
      target: 'optional',
    },
  ],
  [
    'process',
    {
      description: 'Healthy when matching processes run (or the target process resource is alive).',
      params: processMonitorParams,
      target: 'optional',
    },
  ],
  [
    'resource',
    { description: "Runs the target resource's own check.", params: resourceMonitorParams, target: 'always' },
  ],
  [
    'stall',
    {
      description: "Detects the agent's own event loop stalling (like CLUSTERPRO userw).",
      params: stallMonitorParams,
      target: 'never',
    },
  ],
]);
