import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { HaloError, isHaloError } from '../../errors.js';
import { createLogger } from '../../log.js';
import { raiseOwnThreadPriority } from '../../util/thread-priority.js';
import { createCoordinator } from '../backends.js';
import type { Coordinator, CoordinatorEvent } from '../types.js';
import { mergeQueuedEvents } from './event-queue.js';
import type { MainToWorker, WorkerInit, WorkerToMain } from './worker-protocol.js';

/**
 * Entry of the coordination worker thread: the configured backend (see backends.ts) runs here
 * so that the main thread's work (resource operations, API requests, garbage collection of a
 * big heap) cannot delay lease renewals.
 */
const init = workerData as WorkerInit;
const port = parentPort!;
const post = (m: WorkerToMain) => port.postMessage(m);
const log = createLogger({ level: init.logLevel, name: `halo-agent-${init.node}` });
const priorityProblem = raiseOwnThreadPriority();
if (priorityProblem) log.info({ reason: priorityProblem }, 'coordination thread runs at normal priority');
const coordinator: Coordinator = await createCoordinator({
  config: init.config,
  node: init.node,
  key: Buffer.from(init.key),
  stateDir: init.stateDir,
  log,
});

// Between batches of events only counters, timings and members' round trips change; a view
// of N groups copied to the main thread four times a second was most of both heaps' garbage.
const SNAPSHOT_MS = 1000;
let snapshotTimer: NodeJS.Timeout | undefined;

// Posts that carry a view are sent one at a time: the next waits for the main thread's ack of
// the last. A main thread busy for seconds (forking a thousand resource commands) otherwise
// received a view of every group per turn of this loop, hundreds of copies of N groups, and
// ran out of heap before it could read them. While a post is out, events wait here, merged
// (mergeQueuedEvents), and go with one fresh view when the ack comes.
let unacked = 0;
const postView = (m: WorkerToMain & { t: 'events' | 'snapshot' }) => {
  unacked++;
  post(m);
};
const heapUse = () => {
  const h = getHeapStatistics();
  return { usedBytes: h.used_heap_size, totalBytes: h.total_heap_size };
};
const snapshot = (force = false) => {
  if (force || unacked === 0)
    postView({ t: 'snapshot', view: coordinator.view(), intent: coordinator.intent(), heap: heapUse() });
};

// Events are posted together with one snapshot per turn of this thread's loop, not one each:
// a round that changes many groups would otherwise render and copy the N-group view N times
// (O(N²)), and the main thread would reconcile N times. The snapshot goes with the events
// because the main thread reacts at once and reads view()/intent() from it.
let queued: CoordinatorEvent[] = [];
let flushScheduled = false;
const flushEvents = () => {
  flushScheduled = false;
  if (unacked > 0 || queued.length === 0) return;
  const events = mergeQueuedEvents(queued);
  queued = [];
  postView({ t: 'events', events, view: coordinator.view(), intent: coordinator.intent() });
};
coordinator.on((event) => {
  queued.push(event);
  if (!flushScheduled && unacked === 0) {
    flushScheduled = true;
    setImmediate(flushEvents);
  }
});
const onAck = () => {
  unacked = Math.max(0, unacked - 1);
  if (unacked === 0 && queued.length > 0 && !flushScheduled) {
    flushScheduled = true;
    setImmediate(flushEvents);
  }
};

const errorOf = (err: unknown) => ({
  message: (err as Error).message,
  ...(isHaloError(err) ? { code: err.code } : {}),
});

port.on('message', async (m: MainToWorker) => {
  switch (m.t) {
    case 'ack':
      return onAck();
    case 'candidacy':
      return coordinator.setCandidacy(m.group, m.rank);
    case 'fence':
      return coordinator.setFenceActions(m.group, m.actions);
    case 'status':
      return coordinator.setNodeStatus(m.status);
    case 'abandon':
      return coordinator.abandon(m.group);
    case 'release':
    case 'intent':
    case 'stop':
      try {
        if (m.t === 'release') await coordinator.release(m.group);
        else if (m.t === 'intent') await coordinator.updateIntent(m.values);
        else {
          if (snapshotTimer) clearInterval(snapshotTimer);
          await coordinator.stop();
        }
        // Forced: a caller of release()/updateIntent() reads view()/intent() when it resolves.
        snapshot(true);
        post({ t: 'done', id: m.id });
      } catch (err) {
        post({ t: 'done', id: m.id, error: errorOf(err) });
      }
      if (m.t === 'stop') port.close();
      return;
  }
});

try {
  await coordinator.start();
  snapshot(true);
  snapshotTimer = setInterval(() => snapshot(), SNAPSHOT_MS);
  post({ t: 'started' });
} catch (err) {
  post({ t: 'start-failed', ...errorOf(err) });
  if (!isHaloError(err))
    log.error(
      { err: new HaloError('HALO_E_INTERNAL', (err as Error).message) },
      'coordination failed to start',
    );
}
