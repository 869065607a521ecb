import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Lease timing is only as good as the scheduler's promptness: on a loaded machine a renewal or
 * a deadman fence that waits behind other runnable work arrives late. The threads that keep
 * time (the coordination worker, the witness, the deadman helper) therefore ask for nice −10,
 * ahead of ordinary programs but behind real-time ones (Corosync goes further and asks for
 * SCHED_RR). Linux keeps nice per thread; threads started later inherit it.
 */
export const TIMEKEEPER_NICE = -10;

/**
 * Gives the calling thread (main or worker) the timekeeper priority. Returns null on success,
 * or why it could not (e.g. not root and no CAP_SYS_NICE), for the caller to log once.
 */
export function raiseOwnThreadPriority(nice = TIMEKEEPER_NICE): string | null {
  try {
    setPriority(ownThreadId(), nice);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The kernel thread id of the calling thread (/proc/thread-self → "PID/task/TID"). */
export function ownThreadId(): number {
  const link = readlinkSync('/proc/thread-self');
  const tid = Number(link.slice(link.lastIndexOf('/') + 1));
  if (!Number.isInteger(tid) || tid <= 0) throw new Error(`unexpected /proc/thread-self link: ${link}`);
  return tid;
}
