import type { Link } from '../transport/udp-transport.js';
import type { FenceAction } from './fence-action.js';

/**
 * Messages on the pipe between the agent and its deadman helper: one JSON object per line.
 * The agent writes to the helper's stdin, the helper answers on its stdout. The cluster key
 * travels only here (base64 in `init`/`config`), never in argv or the environment, so it does
 * not show in `ps` or /proc/PID/environ.
 */

export interface ArmSpec {
  /** When the helper must act on its own, in ms of CLOCK_MONOTONIC (process.hrtime.bigint() / 1e6). */
  deadlineMonoMs: number;
  /** What stops the group's resources without the agent. */
  actions: FenceAction[];
  /** Sent (signed as this node) to every voter after a confirmed stop when the agent dies. */
  releasePayload: unknown;
}

export type AgentToHelper =
  | {
      t: 'init';
      id: number;
      nodeName: string;
      cluster: string;
      epoch: number;
      key: string;
      voters: Record<string, Link[]>;
      killGraceMs?: number;
      /** Path of the lifeline FIFO to hold open until the helper exits. */
      lifeline?: string;
    }
  | { t: 'config'; id: number; epoch?: number; key?: string; voters?: Record<string, Link[]> }
  | ({ t: 'arm'; id: number; group: string } & ArmSpec)
  /**
   * Moves the deadline of groups already armed (same actions and payload): one line for every
   * lease a batched renewal extended. The ack names the groups it does not hold armed.
   */
  | { t: 'extend'; id: number; groups: string[]; deadlineMonoMs: number }
  | { t: 'disarm'; id: number; group: string }
  | { t: 'stop'; id: number };

export type HelperToAgent =
  | { t: 'ack'; id: number; missing?: string[] }
  | { t: 'error'; id: number; message: string }
  /** A group's deadline passed and the helper ran its actions (the agent missed its own stop). */
  | { t: 'fenced'; group: string; confirmed: boolean };

export { LineDecoder } from '../../util/line-decoder.js';

export function monoNowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
