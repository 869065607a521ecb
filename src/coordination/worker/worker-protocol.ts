import type { HaloConfig } from '../../config/model.js';
import type { FenceAction } from '../deadman/fence-action.js';
import type { ClusterIntent, CoordinatorEvent, CoordinatorView, NodeStatus } from '../types.js';

/** Messages between the agent's main thread and the coordination worker thread. */

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
  /** Pushed on every change and at least every few hundred ms: what view()/intent() return. */
  | { t: 'snapshot'; view: CoordinatorView; intent: ClusterIntent }
  | { t: 'done'; id: number; error?: { message: string; code?: string } };
