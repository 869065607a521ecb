import type { HaloConfig, NodeConfig } from '../config/model.js';

/**
 * One finding of `halo doctor`. FAIL means Halo will not work (or not safely) until fixed;
 * WARN means it works but something that has bitten real deployments (docs/cloud-*.md) is
 * not in place; every
 * WARN and FAIL carries the fix as lines an operator can copy.
 */
export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface CheckResult {
  /** Stable id, e.g. `keepalive-sysctl`, `peer:n2` — scripts match on it. */
  id: string;
  title: string;
  status: CheckStatus;
  message: string;
  /** Commands or steps that fix a WARN or FAIL. */
  fix?: string[];
  /** Extra notes (what the check could not verify, why it matters). */
  notes?: string[];
}

export interface DoctorContext {
  config: HaloConfig;
  self: NodeConfig;
  /** Runs a program; never throws (a missing program gives code null). */
  exec: ExecFn;
  /** Reads a small file; undefined when it cannot be read. */
  readFile: (path: string) => string | undefined;
  /** The API token for asking the local agent (may be absent). */
  token: string | undefined;
  /** Overall budget hint for network probes, ms. */
  probeMs: number;
}

export interface ExecResult {
  /** Exit code; null when the program could not be started (not installed) or timed out. */
  code: number | null;
  stdout: string;
  stderr: string;
}

export type ExecFn = (file: string, args: string[], timeoutMs?: number) => Promise<ExecResult>;

export interface DoctorReport {
  cluster: string;
  node: string;
  configFile: string;
  checks: CheckResult[];
  summary: Record<CheckStatus, number>;
}
