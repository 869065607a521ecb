import type { Logger } from '../log.js';

/**
 * Fault hooks for the namespace lab, and nothing else. They exist only when the agent was
 * started with HALO_TEST_HOOKS=1 in its environment; without it `installTestHooks` does
 * nothing at all (no signal handler is installed, so SIGUSR2 keeps Node's default action).
 * Production agents must never run with HALO_TEST_HOOKS set.
 *
 * - SIGUSR2: the agent's main thread busy-waits for HALO_TEST_BLOCK_MS (default 1000) ms.
 *   It tests what happens when the agent's main event loop is blocked: the lease
 *   lives in the coordination worker thread, so a blocked main thread must not cost the
 *   lease (or, at worst, must end in a clean demote). A busy-wait rather than a sleep,
 *   because only a spinning thread stands for what really starves an event loop (a hot
 *   loop, a huge JSON.parse, a long GC).
 */

export const TEST_HOOKS_ENV = 'HALO_TEST_HOOKS';
export const TEST_BLOCK_MS_ENV = 'HALO_TEST_BLOCK_MS';
const DEFAULT_BLOCK_MS = 1000;

let installed = false;

/** Installs the hooks when HALO_TEST_HOOKS=1; returns whether it did. Idempotent. */
export function installTestHooks(log: Logger, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env[TEST_HOOKS_ENV] !== '1') return false;
  if (installed) return true;
  installed = true;
  const raw = Number(env[TEST_BLOCK_MS_ENV] ?? DEFAULT_BLOCK_MS);
  const blockMs = Number.isFinite(raw) && raw >= 0 ? raw : DEFAULT_BLOCK_MS;
  log.warn({ hooks: ['SIGUSR2 blocks the main thread'], blockMs }, 'test hooks enabled');
  process.on('SIGUSR2', () => {
    log.warn({ blockMs }, 'test hook: blocking the main thread');
    const blockedMs = busyWait(blockMs);
    log.warn({ blockedMs: Math.round(blockedMs) }, 'test hook: main thread unblocked');
  });
  return true;
}

/** Spins the calling thread for `ms` on the monotonic clock; returns how long it really spun. */
export function busyWait(ms: number): number {
  const start = process.hrtime.bigint();
  const until = start + BigInt(Math.round(ms * 1e6));
  let now = start;
  while (now < until) now = process.hrtime.bigint();
  return Number(now - start) / 1e6;
}
