import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * `peer` is what agents use to read each other's failover timelines: a token derived from
 * the cluster key, so no extra secret has to be distributed, and valid for that one route.
 */
export type Access = 'read-write' | 'read-only' | 'peer';

export interface Tokens {
  readWrite: string;
  readOnly?: string | undefined;
  peer?: string | undefined;
}

/**
 * Bearer-token check. Both sides are hashed first so the comparison is constant-time
 * whatever the lengths (timingSafeEqual needs equal-length buffers), and every configured
 * token is compared on every call, so the time taken does not tell which one matched.
 */
export class TokenAuth {
  private readonly tokens: Array<{ digest: Buffer; access: Access }>;

  constructor(tokens: Tokens) {
    this.tokens = [{ digest: digest(tokens.readWrite), access: 'read-write' }];
    if (tokens.readOnly) this.tokens.push({ digest: digest(tokens.readOnly), access: 'read-only' });
    if (tokens.peer) this.tokens.push({ digest: digest(tokens.peer), access: 'peer' });
  }

  /** The access a presented token grants, or undefined when it is not valid. */
  check(presented: string | undefined): Access | undefined {
    if (!presented) return undefined;
    const d = digest(presented);
    let access: Access | undefined;
    for (const t of this.tokens) if (timingSafeEqual(d, t.digest) && !access) access = t.access;
    return access;
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token.trim()).digest();
}

export function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/** The peer token every agent of a cluster derives from the shared cluster key (one-way). */
export function peerToken(clusterKey: Buffer): string {
  return createHmac('sha256', clusterKey).update('halo api peer token v1').digest('hex');
}
