/**
 * PaxosLease ballots: plain numbers `ms * 1024 + voterIndex`.
 *
 * - Unique: two voters never share a low part, and one voter never reuses a number because
 *   `nextBallot` is strictly above everything it has seen (its own ballots included).
 * - Increasing across restarts: the high part comes from the wall clock (a hybrid clock), so a
 *   cold-restarted cluster, whose acceptors forgot every promise, still issues higher ballots
 *   as long as wall clocks agree within the restart quarantine M / 2.
 * - JSON-safe: ms ≈ 1.8e12 today, × 1024 ≈ 1.8e15 < 2^53, good until about year 2248.
 *
 * Ballots order rounds and serve as fencing tokens (a term is the ballot of the round that
 * acquired the lease); they are never used for timing. At the API edge a term is a decimal
 * string (`termToString`), so consumers never do arithmetic on it.
 */

/** Voters per cluster are indexed 0..1023 inside a ballot. */
export const BALLOT_VOTER_SLOTS = 1024;

/** The smallest ballot; every real ballot is above it. */
export const NO_BALLOT = 0;

export function makeBallot(ms: number, voterIndex: number): number {
  if (!Number.isInteger(voterIndex) || voterIndex < 0 || voterIndex >= BALLOT_VOTER_SLOTS) {
    throw new RangeError(`voter index must be an integer in 0..${BALLOT_VOTER_SLOTS - 1}, got ${voterIndex}`);
  }
  return Math.max(0, Math.floor(ms)) * BALLOT_VOTER_SLOTS + voterIndex;
}

/** Which voter issued a ballot. */
export function ballotVoter(b: number): number {
  return b % BALLOT_VOTER_SLOTS;
}

/** The millisecond part of a ballot (hybrid clock; for logs only, never for timing). */
export function ballotMs(b: number): number {
  return Math.floor(b / BALLOT_VOTER_SLOTS);
}

/**
 * A fresh ballot for `voterIndex`, strictly above `lastSeen` (the highest ballot this proposer
 * has issued or seen in any reply) and, when the wall clock allows, taken from it.
 */
export function nextBallot(lastSeen: number, wallMs: number, voterIndex: number): number {
  const fromClock = makeBallot(wallMs, voterIndex);
  if (fromClock > lastSeen) return fromClock;
  return makeBallot(ballotMs(lastSeen) + 1, voterIndex);
}

/** A term at the API edge (events to the engine, status, HALO_TERM). */
export function termToString(term: number): string {
  return String(term);
}

/** Inverse of `termToString`; null when the text is not a ballot. */
export function termFromString(text: string): number | null {
  if (!/^\d{1,16}$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}
