import { createHash } from 'node:crypto';

/**
 * The fingerprint of a set of leases in a batched renewal: each lease (group, ballot, term)
 * hashes to 48 bits and the set's digest is their sum mod 2^48, so it does not depend on
 * order and an acceptor can keep each lease's hash from the moment it accepts it. A
 * collision could only make an acceptor extend a lease of the same owner that the owner did
 * not list; every lease it extends still passes the PROPOSE test of its own ballot, so a
 * collision costs at most a lease that lives longer at that acceptor (liveness), never safety.
 */

const MOD = 2 ** 48;

export function entryHash(g: string, b: number, term: number): number {
  return createHash('sha1').update(`${g}\u0000${b}\u0000${term}`).digest().readUIntBE(0, 6);
}

/** Adds one entry's hash to a running digest. */
export function addToDigest(digest: number, hash: number): number {
  return (digest + hash) % MOD;
}
