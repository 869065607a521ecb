/**
 * Last-resort teardown: whatever happens to the process (normal exit, uncaught exception,
 * SIGINT/SIGTERM/SIGHUP), every live lab runs its synchronous cleanup. The async cleanup a
 * test calls in t.after stays the normal path; this covers the paths where it cannot run.
 */

type SyncCleanup = () => void;

const live = new Set<SyncCleanup>();
let installed = false;

function runAll(): void {
  for (const fn of [...live]) {
    live.delete(fn);
    try {
      fn();
    } catch {
      // Keep going: the next lab's leftovers matter as much.
    }
  }
}

const SIGNALS: Array<[NodeJS.Signals, number]> = [
  ['SIGINT', 2],
  ['SIGTERM', 15],
  ['SIGHUP', 1],
];

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const [sig, num] of SIGNALS) {
    process.on(sig, () => {
      runAll();
      process.exit(128 + num);
    });
  }
}

/** Registers a lab's synchronous cleanup; the returned function unregisters it. */
export function registerCleanup(fn: SyncCleanup): () => void {
  install();
  live.add(fn);
  return () => live.delete(fn);
}
