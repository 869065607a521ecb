import type { CoreEvent, LogLine } from '../shell/coordinator-shell.js';
import type { EtcdKeys, NodeRecord } from './etcd-keys.js';
import type { KeyValue } from './etcd-mirror.js';
import type { EtcdTiming } from './etcd-timing.js';

/**
 * The vocabulary between the etcd backend's pure core (etcd-core.ts) and its shell
 * (etcd-coordinator.ts): the commands the core asks for, the results the shell reports back,
 * what the core remembers of each group held here, and how it is configured.
 */

export type EtcdCommand =
  /** Call {@link EtcdCore.acquireDue} for the group after `delayMs`. */
  | { type: 'schedule-acquire'; group: string; delayMs: number }
  /** Create-if-absent transaction of the group key under `leaseId`; answer with onAcquired. */
  | { type: 'acquire'; group: string; leaseId: string }
  /** Delete the group key if its create revision is `term`; answer with onDeleted. */
  | { type: 'delete-key'; group: string; term: string }
  /** Move the abandoned group key to a lease nobody renews; answer with onMoved. */
  | { type: 'move-abandoned'; group: string; term: string }
  /** (Re)arm the deadman helper for a held group. */
  | { type: 'arm'; group: string; deadlineMonoMs: number }
  /** Give the lease up without revoking it (its keys expire with it); a new one is granted. */
  | { type: 'poison-lease' }
  /** Write this node's record under the lease; answer a failure with onNodeRecordFailed. */
  | { type: 'put-node-record'; leaseId: string; record: NodeRecord }
  /** Read everything under the prefix; answer with onSnapshot / onPollFailed. */
  | { type: 'poll' }
  | ({ type: 'log' } & LogLine);

export interface EtcdOutput {
  commands: EtcdCommand[];
  events: CoreEvent[];
}

export interface HeldGroup {
  term: string;
  leaseId: string;
  /** `acquired` was emitted and no `demote` since. */
  active: boolean;
  /** A stop failed: the key is to be moved to a lease nobody renews. */
  abandoned: boolean;
  /** Abandoned and the key is already on the throwaway lease. */
  moved: boolean;
}

export type AcquireResult =
  | { kind: 'created'; term: string }
  /** The key existed; `kv` is what the transaction read (null if nothing). */
  | { kind: 'exists'; kv: KeyValue | null; revision: number }
  | { kind: 'failed'; error: string };

/** Back-off per rank step after a group becomes free. */
export const RANK_STEP_MS = 20;

export interface EtcdCoreOptions {
  node: string;
  bootId: string;
  epoch: number;
  /** Every group with its candidate nodes, and every node, from the config. */
  groups: ReadonlyArray<{ name: string; nodes: readonly string[] }>;
  nodes: readonly string[];
  timing: EtcdTiming;
  keys: EtcdKeys;
}
