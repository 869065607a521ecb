import { Worker } from 'node:worker_threads';
import type { HaloConfig } from '../../config/model.js';
import { type ErrorCode, HaloError } from '../../errors.js';
import type { FenceAction } from '../deadman/fence-action.js';
import type { ClusterIntent, Coordinator, CoordinatorEvent, CoordinatorView, NodeStatus } from '../types.js';
import type { HeapUse, MainToWorker, WorkerInit, WorkerToMain } from './worker-protocol.js';

/**
 * The Coordinator the agent uses: a proxy to the configured backend running in a worker
 * thread. Calls become messages; events come back as messages; view() and intent() return
 * the latest snapshot the worker pushed (at most ~1 s old, fresh with every batch of events).
 */
export class WorkerCoordinator implements Coordinator {
  private readonly init: WorkerInit;
  private worker: Worker | undefined;
  private readonly listeners = new Set<(e: CoordinatorEvent) => void>();
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private lastView: CoordinatorView;
  private lastIntent: ClusterIntent = {};
  private lastHeap: HeapUse | undefined;

  constructor(opts: { config: HaloConfig; node: string; key: Buffer; stateDir: string; logLevel?: string }) {
    this.init = {
      config: opts.config,
      node: opts.node,
      key: new Uint8Array(opts.key),
      stateDir: opts.stateDir,
      logLevel: opts.logLevel ?? process.env['HALO_LOG_LEVEL'] ?? 'info',
    };
    this.lastView = {
      node: opts.node,
      quorum: false,
      quarantined: true,
      members: [],
      leases: [],
      droppedMessages: {},
    };
  }

  start(): Promise<void> {
    const worker = new Worker(new URL('./worker-main.js', import.meta.url), {
      workerData: this.init,
      // The core allocates little; a small young generation keeps the thread's memory down.
      resourceLimits: { maxYoungGenerationSizeMb: 2 },
    });
    this.worker = worker;
    return new Promise((resolve, reject) => {
      worker.on('message', (m: WorkerToMain) => {
        switch (m.t) {
          case 'started':
            return resolve();
          case 'start-failed':
            return reject(new HaloError((m.code as ErrorCode | undefined) ?? 'HALO_E_INTERNAL', m.message));
          case 'events':
            this.lastView = m.view;
            this.lastIntent = m.intent;
            try {
              for (const event of m.events) for (const l of this.listeners) l(event);
            } finally {
              this.post({ t: 'ack' });
            }
            return;
          case 'snapshot':
            this.lastView = m.view;
            this.lastIntent = m.intent;
            this.lastHeap = m.heap;
            this.post({ t: 'ack' });
            return;
          case 'done': {
            const p = this.pending.get(m.id);
            this.pending.delete(m.id);
            if (!p) return;
            if (m.error)
              p.reject(
                new HaloError((m.error.code as ErrorCode | undefined) ?? 'HALO_E_INTERNAL', m.error.message),
              );
            else p.resolve();
            return;
          }
        }
      });
      worker.on('error', (err) => reject(err));
      worker.on('exit', (code) => {
        for (const p of this.pending.values())
          p.reject(new HaloError('HALO_E_INTERNAL', `coordination worker exited (${code})`));
        this.pending.clear();
      });
    });
  }

  async stop(): Promise<void> {
    if (!this.worker) return;
    await this.call({ t: 'stop', id: 0 }).catch(() => undefined);
    await this.worker.terminate();
    this.worker = undefined;
  }

  on(listener: (event: CoordinatorEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setCandidacy(group: string, rank: number | null): void {
    this.post({ t: 'candidacy', group, rank });
  }

  release(group: string): Promise<void> {
    return this.call({ t: 'release', id: 0, group });
  }

  abandon(group: string): void {
    this.post({ t: 'abandon', group });
  }

  setFenceActions(group: string, actions: FenceAction[]): void {
    this.post({ t: 'fence', group, actions });
  }

  setNodeStatus(status: NodeStatus): void {
    this.post({ t: 'status', status });
  }

  intent(): ClusterIntent {
    return this.lastIntent;
  }

  updateIntent(values: Record<string, unknown>): Promise<void> {
    return this.call({ t: 'intent', id: 0, values });
  }

  view(): CoordinatorView {
    return this.lastView;
  }

  /** The coordination thread's heap as of its last snapshot (undefined before the first). */
  heap(): HeapUse | undefined {
    return this.lastHeap;
  }

  private post(m: MainToWorker): void {
    this.worker?.postMessage(m);
  }

  private call(m: MainToWorker & { id: number }): Promise<void> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (!this.worker) return reject(new HaloError('HALO_E_INTERNAL', 'coordination is not running'));
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...m, id });
    });
  }
}
