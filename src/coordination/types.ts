import type { FenceAction } from './deadman/fence-action.js';
import type { DeadmanView } from './shell/deadman-guard.js';

/**
 * The coordination contract, shared by the embedded backend (PaxosLease among nodes +
 * witness) and the etcd backend. Both must behave the same:
 *
 * 1. A node starts a group's resources only after `acquired`, and must have them stopped
 *    when `demote` fires (which happens no later than t0 + V − S of its last good renewal).
 * 2. The backend never reports two nodes as owners with overlapping validity windows.
 * 3. `release` is called only after local resources are stopped; it hands the group over
 *    at once instead of waiting out the lease.
 * 4. The term handed out with `acquired` only ever increases for a group (fencing token).
 * 5. While this node holds a lease the backend keeps the deadman helper armed with the
 *    group's fence actions and deadline, so resources stop even if the agent hangs or dies.
 * 6. Admin intent is replicated: `updateIntent` resolves only once a majority holds it, and
 *    every node (including one that restarts) converges to the same intent.
 */

export interface MemberView {
  name: string;
  kind: 'node' | 'witness';
  up: boolean;
  /** Node-level monitors all passing (always true for the witness). */
  eligible: boolean;
  reasons: string[];
  lastSeenAgoMs: number | null;
  rttMs: number | null;
  configEpoch: number | null;
}

export interface GroupLeaseView {
  group: string;
  owner: string | null;
  term: string | null;
  /** For this node's own lease: ms left of V; null otherwise. */
  validForMs: number | null;
}

export interface CoordinatorView {
  node: string;
  /** Does this node currently hear a majority of voters? */
  quorum: boolean;
  /** In restart quarantine: votes for nobody, acquires nothing. */
  quarantined: boolean;
  members: MemberView[];
  leases: GroupLeaseView[];
  droppedMessages: Record<string, number>;
  /** The deadman helper: running or not, restarts, which held groups it covers (absent: no helper). */
  deadman?: DeadmanView;
  /** Successful renewals of leases held here, and the sum of their round times (t0 → majority ACCEPTED). */
  leaseRenewals?: { count: number; sumMs: number };
}

/** One entry of the replicated admin intent (a last-writer-wins map). */
export interface IntentEntry {
  value: unknown;
  /** Hybrid-clock version: ms since epoch * 1000 + writer index; higher wins. */
  version: number;
}

/**
 * Admin intent keys (all strings):
 * - `group/<g>/state` → 'started' | 'stopped'
 * - `group/<g>/preferred` → node name | null (a manual move's target)
 * - `group/<g>/failed/<node>` → true | false (node failed to start the group)
 * - `group/<g>/failedReason/<node>` → string (why, with the failing resource's message)
 * - `group/<g>/failedAt/<node>` → wall ms of the mark (what `failureTimeout` counts from)
 * - `group/<g>/cleanup` → { resource, node } of the last `halo cleanup`
 * - `monitor/<name>/suspended` → boolean (`<group>/<monitor>` for group monitors)
 * - `param/<g>/<r>/<key>` → a parameter override as its type's schema parsed it | null
 * - `applied/<g>/<r>` → `{ node, values, versions }`: the overrides the node running it uses
 *   (src/engine/param-intent.ts)
 * - `node/<n>/standby` → boolean (the node takes no group; the ones it holds move away)
 */
export type ClusterIntent = Record<string, IntentEntry>;

export type CoordinatorEvent =
  /** This node holds the lease: it may start the group's resources under `term`. */
  | { type: 'acquired'; group: string; term: string }
  /** Stop the group's resources now: the lease is lost or about to be (reason says why). */
  | { type: 'demote'; group: string; term: string; reason: string }
  /** The cluster-wide owner of a group changed (for status and the UI). */
  | { type: 'owner'; group: string; owner: string | null; term: string | null }
  /** Membership or quorum changed. */
  | { type: 'membership'; view: CoordinatorView }
  /** The replicated intent changed (locally or from a peer). */
  | { type: 'intent'; intent: ClusterIntent }
  /** The deadman helper died or was restarted (for the event log; the backend acts itself). */
  | {
      type: 'deadman';
      state: 'off' | 'starting' | 'ready' | 'down';
      reason: string;
      restarts: number;
      pid: number | null;
    };

export interface NodeStatus {
  eligible: boolean;
  reasons: string[];
}

export interface Coordinator {
  start(): Promise<void>;
  /**
   * Stops timers, cancels and awaits every background task, then closes sockets and stops the
   * deadman helper. Call after every group was stopped and released.
   */
  stop(): Promise<void>;
  on(listener: (event: CoordinatorEvent) => void): () => void;
  /**
   * Whether this node should try to hold `group`, and its rank among candidates
   * (0 = most preferred; higher ranks back off `rank × 20 ms`). null = do not try,
   * and if held, nothing changes until the engine releases it.
   */
  setCandidacy(group: string, rank: number | null): void;
  /** Planned hand-over once local resources are stopped. */
  release(group: string): Promise<void>;
  /**
   * A stop failed: stop renewing the lease but do not release it, and keep the deadman armed,
   * so the lease runs out, the helper fences at its deadline, and only then can another node
   * acquire the group.
   */
  abandon(group: string): void;
  /** What the deadman helper must do for a group this node holds. */
  setFenceActions(group: string, actions: FenceAction[]): void;
  /** This node's eligibility, gossiped to every node. */
  setNodeStatus(status: NodeStatus): void;
  intent(): ClusterIntent;
  /** Write intent entries; resolves once a majority of voters stored them. */
  updateIntent(entries: Record<string, unknown>): Promise<void>;
  view(): CoordinatorView;
}
