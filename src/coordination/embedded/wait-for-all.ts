/**
 * Cold start: when may this node first propose? Pure; the times are this node's monotonic ms.
 *
 * If the nodes of a stopped cluster come up a few seconds apart, the first one up with the
 * witness is a majority and would take every group, preferred or not: a group configured
 * `nodes: [n1, n2]` lands on n2 because n2's agent happened to start first. Like Corosync's
 * wait_for_all, a node that has just started proposes nothing until it has heard every voter;
 * all of them then begin at about the same moment — the end of the quarantine of the last
 * voter to start (every node works out the same time from the uptime in the heartbeats), and
 * at least `settleMs` after the last voter was first heard, so the engine has ranked the
 * newcomer — and the rank back-off gives each group to its most preferred eligible node. The
 * wait is bounded: after `waitForAllMs` the node goes on with whatever majority it has.
 *
 * A node that starts while the cluster is already running has nothing to wait for: once a
 * node peer says it is past its own wait (the flag in its heartbeats), this node only keeps
 * its restart quarantine. A clock anomaly re-quarantines a node but does not restart this wait.
 */

export interface VoterSighting {
  name: string;
  kind: 'node' | 'witness';
  /** Heard within the last few heartbeat periods. */
  up: boolean;
  /** When it (re)started, on this node's clock, from its heartbeats; null until one carried it. */
  startedAt: number | null;
  /** It said it is past its own cold-start wait: the cluster is already running. */
  settled: boolean;
}

export interface WaitForAllInput {
  now: number;
  /** When this node started. */
  bootAt: number;
  /** The restart quarantine M (every voter of a cluster has the same). */
  quarantineMs: number;
  /** Upper bound of the wait; 0 turns it off. */
  waitForAllMs: number;
  /**
   * Once every voter is heard, wait at least this much longer: the engine ranks the candidates
   * from the membership it is told about, and a peer heard a moment ago may not be ranked yet.
   */
  settleMs: number;
  /** Every other voter. */
  peers: readonly VoterSighting[];
}

export type WaitForAllReason = 'off' | 'all-voters' | 'joined-running-cluster' | 'timeout';

export type WaitForAllVerdict =
  | {
      open: true;
      /** Propose from this time on (may be later than now). */
      at: number;
      reason: WaitForAllReason;
      /** Voters not heard when the wait timed out. */
      missing: string[];
    }
  | { open: false /** The wait ends at this time at the latest. */; until: number; missing: string[] };

export function waitForAll(input: WaitForAllInput): WaitForAllVerdict {
  const { bootAt, quarantineMs, waitForAllMs, settleMs, peers, now } = input;
  const quarantineEnd = bootAt + quarantineMs;
  if (waitForAllMs <= 0) return { open: true, at: quarantineEnd, reason: 'off', missing: [] };
  if (peers.some((p) => p.kind === 'node' && p.up && p.settled))
    return { open: true, at: quarantineEnd, reason: 'joined-running-cluster', missing: [] };
  const missing = peers.filter((p) => !p.up || p.startedAt === null).map((p) => p.name);
  if (missing.length === 0) {
    // Everyone is here: start together when the last one to start leaves its quarantine.
    const lastStart = Math.max(bootAt, ...peers.map((p) => p.startedAt ?? bootAt));
    const at = Math.max(lastStart + quarantineMs, now + settleMs);
    return { open: true, at, reason: 'all-voters', missing: [] };
  }
  const until = bootAt + Math.max(waitForAllMs, quarantineMs);
  if (now >= until) return { open: true, at: until, reason: 'timeout', missing };
  return { open: false, until, missing };
}
