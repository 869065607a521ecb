import type { MonitorSpec } from '../../config/catalog.js';
import type { Logger } from '../../log.js';
import type { CheckResult } from '../resources/types.js';

/**
 * The monitor contract. The engine owns the timing (interval, timeout, retries, startWait,
 * the active/always rule) and the recovery ladder; a monitor type only knows how to run
 * one probe and say whether it passed, with its output (never swallowed).
 */

export interface MonitorResult {
  ok: boolean;
  /** What the probe printed or observed; shown in status and the event log. */
  output: string;
  /** A failure retrying on this node cannot fix (see CheckResult.hard): no retries, no restart. */
  hard?: true;
}

export interface MonitorContext {
  cluster: string;
  node: string;
  /** Set for group monitors. */
  group?: string;
  monitor: string;
  signal: AbortSignal;
  log: Logger;
  /** For `resource` and `process` monitors: ask the target resource instance. */
  checkTarget?: () => Promise<CheckResult>;
  /** For `stall`: the agent's own liveness facts. */
  agentHealth?: () => { eventLoopLagMs: number; lastTickAgoMs: number };
}

export interface MonitorInstance {
  probe(ctx: MonitorContext): Promise<MonitorResult>;
}

/**
 * One monitor plugin: a single plain object that is both its spec (type, description, schema,
 * whether it needs a target; see src/config/catalog.ts) and its implementation (`create`).
 * The built-ins are listed once, in registry.ts.
 */
export interface MonitorPlugin<P extends Record<string, unknown> = Record<string, unknown>>
  extends MonitorSpec<P> {
  create(name: string, params: P): MonitorInstance;
}
