import type { MonitorContext } from '../../../src/engine/monitors/types.js';
import { silentLogger } from '../../../src/log.js';

export function monitorContext(overrides: Partial<MonitorContext> = {}): MonitorContext {
  return {
    cluster: 'test-cluster',
    node: 'n1',
    group: 'g1',
    monitor: 'm1',
    signal: new AbortController().signal,
    log: silentLogger,
    ...overrides,
  };
}
