import type { Timing } from '../../config/model.js';
import { type LeaseMath, leaseMath } from '../timing.js';

/**
 * Lease timing of the etcd backend. etcd leases have a TTL
 * in whole seconds (2 s minimum by default), so the configured lease D is rounded up; the
 * agent renews every TTL/5 and computes V, the demote point and the deadman deadline with the
 * same formulas as the embedded backend, from the moment it *sent* its last successful
 * keepalive: etcd can only have started its own TTL later than that.
 *
 * While etcd elects a new leader no keepalive is answered. etcd itself keeps every lease
 * through an election (a new leader restarts all TTLs), but the owner cannot know that
 * until an answer comes, so its demote point must lie beyond the longest election: a
 * follower waits between one and two election timeouts before it stands, and the dead
 * leader may have died just before our next keepalive. The TTL is therefore raised until
 * demote point ≥ renew period + 2 × election timeout + a margin for the vote and the retry.
 */
export interface EtcdTiming {
  ttlSec: number;
  /** Keepalive period (TTL/5). */
  renewMs: number;
  /** Stop budget S (the owner demotes at t0 + V − S). */
  stopBudgetMs: number;
  /** Upper bound of a single etcd call (keepalive, txn, read). */
  callTimeoutMs: number;
  math: LeaseMath;
}

export const ETCD_MIN_TTL_SEC = 2;
/** etcd's own default `--election-timeout`. */
export const ETCD_DEFAULT_ELECTION_MS = 1000;
/** The vote itself, our retry pause and one round trip after the election timer fired. */
const ELECTION_MARGIN_MS = 300;

export function etcdTiming(t: Timing, electionTimeoutMs = ETCD_DEFAULT_ELECTION_MS): EtcdTiming {
  let ttlSec = Math.max(ETCD_MIN_TTL_SEC, Math.ceil(t.leaseMs / 1000));
  while (!outlastsElection(t, ttlSec, electionTimeoutMs)) ttlSec++;
  return timingFor(t, ttlSec);
}

function outlastsElection(t: Timing, ttlSec: number, electionTimeoutMs: number): boolean {
  const { renewMs, math } = timingFor(t, ttlSec);
  return math.demoteAtMs >= renewMs + 2 * electionTimeoutMs + ELECTION_MARGIN_MS;
}

function timingFor(t: Timing, ttlSec: number): EtcdTiming {
  const leaseMs = ttlSec * 1000;
  const renewMs = leaseMs / 5;
  const math = leaseMath({ ...t, leaseMs, renewMs });
  // The configured S is for D = leaseMs; keep it, but never let it eat more than half of V.
  const stopBudgetMs = Math.min(t.stopBudgetMs, Math.floor(math.validityMs / 2));
  const adjusted = leaseMath({ ...t, leaseMs, renewMs, stopBudgetMs });
  return { ttlSec, renewMs, stopBudgetMs, callTimeoutMs: renewMs, math: adjusted };
}
