import { httpMonitor } from './http/index.js';
import { processMonitor } from './process/index.js';
import { resourceMonitor } from './resource/index.js';
import { scriptMonitor } from './script/index.js';
import { smbMonitor } from './smb/index.js';
import { stallMonitor } from './stall/index.js';
import { tcpMonitor } from './tcp/index.js';
import type { MonitorPlugin } from './types.js';

/**
 * Every built-in monitor plugin, in the order docs/configuration.md lists them; the one list
 * (see resources/registry.ts). Listed by hand on purpose: adding a type is a visible change.
 */
export const builtinMonitors: readonly MonitorPlugin[] = [
  scriptMonitor,
  tcpMonitor,
  httpMonitor,
  processMonitor,
  resourceMonitor,
  stallMonitor,
  smbMonitor,
];

/** The built-in plugins by their `type` key (a test checks no two share one). */
export const monitorTypes: ReadonlyMap<string, MonitorPlugin> = new Map(
  builtinMonitors.map((plugin) => [plugin.type, plugin]),
);
