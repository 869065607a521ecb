import { httpMonitor } from './http/index.js';
import { processMonitor } from './process/index.js';
import { resourceMonitor } from './resource/index.js';
import { scriptMonitor } from './script/index.js';
import { stallMonitor } from './stall/index.js';
import { tcpMonitor } from './tcp/index.js';
import type { MonitorType } from './types.js';

/** Every built-in monitor type, by its `type` key. Listed by hand: adding a type is a visible change. */
export const monitorTypes: ReadonlyMap<string, MonitorType> = new Map<string, MonitorType>(
  [scriptMonitor, tcpMonitor, httpMonitor, processMonitor, resourceMonitor, stallMonitor].map((type) => [
    type.type,
    type,
  ]),
);
