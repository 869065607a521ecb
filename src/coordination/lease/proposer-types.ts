import type { Timing } from '../../config/model.js';
import type { Outgoing } from './messages.js';

/**
 * The vocabulary of the PaxosLease proposer (proposer.ts): its options, the events it hands to
 * the engine, and the state it keeps for a lease held and for the round in flight.
 */

export interface Voter {
  name: string;
  /** Vote weight (default 1); a majority is more than half of the total weight. */
  weight?: number;
}

export interface ProposerOptions {
  /** This node's name, as the owner recorded in leases. */
  node: string;
  group: string;
  /** Every voter of the cluster (nodes and witness), including this node if it votes. */
  voters: readonly Voter[];
  timing: Timing;
  /** This node's index among the voters, 0..1023: the low part of its ballots. */
  ballotIndex: number;
  /** Wall-clock ms for the high part of ballots (never for timing). Default Date.now. */
  wallClock?: () => number;
  /** Uniform [0, 1) for back-off jitter. Default Math.random; the simulator seeds it. */
  random?: () => number;
  /**
   * Renewals come from the node's BatchRenewer (one round for every lease the node holds)
   * instead of a round per group; the proposer still runs its own round to acquire, and to
   * renew when the batch is refused (`renewAlone`). Default false.
   */
  batchRenewal?: boolean;
}

export type LeaseEvent =
  | { type: 'acquired'; term: number; validUntil: number }
  | { type: 'extended'; term: number; validUntil: number }
  | { type: 'demote'; term: number; reason: string }
  | { type: 'ownerSeen'; owner: string; term: number };

export interface ProposerOutput {
  send: Outgoing[];
  events: LeaseEvent[];
}

export interface Ownership {
  /** Ballot of the round that last got the lease accepted (what a batched renewal re-proposes). */
  b: number;
  term: number;
  validUntil: number;
  demoteAt: number;
}

export interface Round {
  b: number;
  phase: 'prepare' | 'propose';
  /** Monotonic send time of the PREPARE; the lease window is measured from here. */
  t0: number;
  deadline: number;
  /** When the current phase's message is sent again to the voters that have not answered. */
  resendAt: number;
  kind: 'acquire' | 'extend';
  term: number;
  replied: Set<string>;
  yes: number;
  no: number;
  /** Highest term among our own leases reported in promises (−1: none). */
  maxSelfTerm: number;
}
