import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { findProcesses } from '../../../src/engine/exec/process-tree.js';

/**
 * A `sleep` duration unique to one test, so its processes can be found in /proc and nothing
 * else on the machine matches (GNU sleep accepts fractions).
 */
export function uniqueSleep(): string {
  return `3600.${randomInt(100_000, 999_999)}${randomInt(100_000, 999_999)}`;
}

export function markerPattern(marker: string): RegExp {
  // Anchored: the shell that launched the sleep has the marker in its own command line too.
  return new RegExp(`^(\\S*/)?sleep ${marker.replaceAll('.', '\\.')}$`);
}

export async function countMarked(marker: string): Promise<number> {
  return (await findProcesses(markerPattern(marker))).length;
}

/** Polls until `predicate` holds or `timeoutMs` passes (generous bounds: CI machines are noisy). */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return true;
    if (Date.now() > deadline) return false;
    await sleep(25);
  }
}

/** Test cleanup: SIGKILL whatever still carries the marker. */
export async function killMarked(marker: string): Promise<void> {
  for (const found of await findProcesses(markerPattern(marker))) {
    try {
      process.kill(found.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
