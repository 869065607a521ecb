import type { GroupConfig } from '../config/model.js';
import type { ParsedIntent } from './intent.js';

/**
 * Failure marks that run out (Pacemaker's failure-timeout): a node marked failed for a group
 * counts as failed only until `failureTimeoutMs` after the mark was written; then it may run
 * the group again. Pure: the parsed intent, the group configs and the wall time in.
 *
 * The time of a mark is part of the replicated intent (`failedAt`, written by the marking
 * node), so every node reaches the same verdict, within the clock skew between the nodes. An
 * expired mark only makes the node a candidate again: the lease still decides who runs the
 * group, so an expiry can never let two nodes run it.
 */

export interface FailureExpiry {
  /** The intent with expired marks moved from `failed` to `expired`. */
  intent: ParsedIntent;
  /** Wall ms at which the next counted mark expires; null when none will. */
  nextExpiryAt: number | null;
}

/** Groups without a timeout (absent or 0) keep their marks until they are cleared. */
export function expireFailures(
  intent: ParsedIntent,
  groups: readonly Pick<GroupConfig, 'name' | 'failureTimeoutMs'>[],
  nowMs: number,
): FailureExpiry {
  const timeouts = new Map(groups.map((g) => [g.name, g.failureTimeoutMs ?? 0]));
  let nextExpiryAt: number | null = null;
  const out: ParsedIntent['groups'] = {};
  for (const [name, gi] of Object.entries(intent.groups)) {
    const timeoutMs = timeouts.get(name) ?? 0;
    if (timeoutMs <= 0 || gi.failed.length === 0) {
      out[name] = gi;
      continue;
    }
    const failed: string[] = [];
    const expired: string[] = [...gi.expired];
    for (const node of gi.failed) {
      const at = gi.failedAt[node];
      if (at === undefined) {
        failed.push(node);
        continue;
      }
      const expiresAt = at + timeoutMs;
      if (nowMs >= expiresAt) expired.push(node);
      else {
        failed.push(node);
        nextExpiryAt = nextExpiryAt === null ? expiresAt : Math.min(nextExpiryAt, expiresAt);
      }
    }
    out[name] = { ...gi, failed, expired: expired.sort() };
  }
  return { intent: { ...intent, groups: out }, nextExpiryAt };
}

/** When the mark of `node` expires (wall ms), or null when it does not (no time, no timeout). */
export function markExpiresAt(
  failedAt: Readonly<Record<string, number>>,
  node: string,
  timeoutMs: number | undefined,
): number | null {
  const at = failedAt[node];
  return at === undefined || !timeoutMs ? null : at + timeoutMs;
}
