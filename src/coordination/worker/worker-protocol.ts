import type { HaloConfig } from '../../config/model.js';
import type { FenceAction } from '../deadman/fence-action.js';
import type { ClusterIntent, CoordinatorEvent, CoordinatorView, NodeStatus } from '../types.js';

/** Messages between the agent's main thread and the coordination worker thread. */

/** One V8 heap: bytes in use by live and not yet collected objects, and bytes reserved. */
export interface HeapUse {
  usedBytes: number;
  totalBytes: number;
}

export interface WorkerInit {
  config: HaloConfig;
  node: string;
  key: Uint8Array;
  stateDir: string;
  logLevel: string;
}

export type MainToWorker =
  | { t: 'candidacy'; group: string; rank: number | null }
  | { t: 'fence'; group: string; actions: FenceAction[] }
  | { t: 'status'; status: NodeStatus }
  | { t: 'abandon'; group: string }
  | { t: 'release'; id: number; group: string }
  | { t: 'intent'; id: number; values: Record<string, unknown> }
  | { t: 'stop'; id: number }
  /** The main thread has handled one `events` or `snapshot` post (see worker-main.ts). */
  | { t: 'ack' };

export type WorkerToMain =
  | { t: 'started' }
  | { t: 'start-failed'; message: string; code?: string }
  /** Events of one turn of the worker's loop, in order, with the view and intent after them. */
  | { t: 'events'; events: CoordinatorEvent[]; view: CoordinatorView; intent: ClusterIntent }
  /**
   * Pushed on every change and at least once a second: what view()/intent() return, and the
   * worker's own heap (the main thread cannot read another isolate's heap in Node 20).
   */
  | { t: 'snapshot'; view: CoordinatorView; intent: ClusterIntent; heap: HeapUse }
  | { t: 'done'; id: number; error?: { message: string; code?: string } };
