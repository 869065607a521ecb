import type { Timing } from '../../config/model.js';
import { type LeaseMath, leaseMath } from '../timing.js';

/**
 * Lease timing of the etcd backend. etcd leases have a TTL
 * in whole seconds (2 s minimum by default), so the configured lease D is rounded up; the
 * agent renews every TTL/5 and computes V, the demote point and the deadman deadline with the
 * same formulas as the embedded backend, from the moment it *sent* its last successful
 * keepalive: etcd can only have started its own TTL later than that.
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

export function etcdTiming(t: Timing): EtcdTiming {
  const ttlSec = Math.max(ETCD_MIN_TTL_SEC, Math.ceil(t.leaseMs / 1000));
  const leaseMs = ttlSec * 1000;
  const renewMs = leaseMs / 5;
  const math = leaseMath({ ...t, leaseMs, renewMs });
  // The configured S is for D = leaseMs; keep it, but never let it eat more than half of V.
  const stopBudgetMs = Math.min(t.stopBudgetMs, Math.floor(math.validityMs / 2));
  const adjusted = leaseMath({ ...t, leaseMs, renewMs, stopBudgetMs });
  return { ttlSec, renewMs, stopBudgetMs, callTimeoutMs: renewMs, math: adjusted };
}
