import type { Timing } from '../../config/model.js';
import { type LeaseMath, leaseMath } from '../timing.js';

/**
 * Lease timing of the etcd backend. etcd leases have a TTL
 * in whole seconds (2 s minimum by default), so the configured lease D is rounded up; the
 * agent computes V, the demote point and the deadman deadline with the same formulas as the
 * embedded backend, from the moment it *sent* the last keepalive etcd answered: etcd can only
 * have started its own TTL later than that.
 *
 * While etcd elects a new leader no keepalive is answered. etcd itself keeps every lease
 * through an election (a new leader restarts all TTLs), but the owner cannot know that until
 * an answer comes, so its demote point must lie beyond the longest election. A follower waits
 * one to two election timeouts before it stands; a split vote, or a vote ignored because the
 * voter heard from the old leader less than one election timeout ago (etcd's check-quorum),
 * costs another round, and we measured elections of more than two timeouts in about one kill
 * of the leader in ten. The leader may also die just after answering the owner's keepalive,
 * so the owner's last answered send lies up to one keepalive period before the crash. Two
 * choices follow: keepalives go out every `keepaliveMs`, short beside the election timeout
 * and independent of whether the previous one was answered yet (a member holds a keepalive
 * until it knows the new leader, and the first one sent after the crash is answered as soon
 * as there is one); and the TTL is raised until
 * demote point ≥ keepalive period + 3 × election timeout + a margin for the vote and the
 * round trip.
 */
export interface EtcdTiming {
  ttlSec: number;
  /** Period of the state polls and the base of the call timeouts (TTL/5). */
  renewMs: number;
  /** Keepalive period: TTL/5, at most a quarter of the election timeout (never below 50 ms). */
  keepaliveMs: number;
  /** Stop budget S (the owner demotes at t0 + V − S). */
  stopBudgetMs: number;
  /** Upper bound of a single etcd call (keepalive, txn, read). */
  callTimeoutMs: number;
  math: LeaseMath;
}

export const ETCD_MIN_TTL_SEC = 2;
/** etcd's own default `--election-timeout`. */
export const ETCD_DEFAULT_ELECTION_MS = 1000;
/** Election timeouts an election may take (see above). */
export const ELECTION_ROUNDS = 3;
/** The vote itself and the round trip of the held keepalive once the new leader is known. */
export const ELECTION_MARGIN_MS = 100;
const MIN_KEEPALIVE_MS = 50;

export function etcdTiming(t: Timing, electionTimeoutMs = ETCD_DEFAULT_ELECTION_MS): EtcdTiming {
  let ttlSec = Math.max(ETCD_MIN_TTL_SEC, Math.ceil(t.leaseMs / 1000));
  while (!outlastsElection(t, ttlSec, electionTimeoutMs)) ttlSec++;
  return timingFor(t, ttlSec, electionTimeoutMs);
}

function outlastsElection(t: Timing, ttlSec: number, electionTimeoutMs: number): boolean {
  const { keepaliveMs, math } = timingFor(t, ttlSec, electionTimeoutMs);
  return math.demoteAtMs >= keepaliveMs + ELECTION_ROUNDS * electionTimeoutMs + ELECTION_MARGIN_MS;
}

function timingFor(t: Timing, ttlSec: number, electionTimeoutMs: number): EtcdTiming {
  const leaseMs = ttlSec * 1000;
  const renewMs = leaseMs / 5;
  const keepaliveMs = Math.max(MIN_KEEPALIVE_MS, Math.min(renewMs, Math.floor(electionTimeoutMs / 4)));
  const math = leaseMath({ ...t, leaseMs, renewMs });
  // The configured S is for D = leaseMs; keep it, but never let it eat more than half of V.
  const stopBudgetMs = Math.min(t.stopBudgetMs, Math.floor(math.validityMs / 2));
  const adjusted = leaseMath({ ...t, leaseMs, renewMs, stopBudgetMs });
  return { ttlSec, renewMs, keepaliveMs, stopBudgetMs, callTimeoutMs: renewMs, math: adjusted };
}
