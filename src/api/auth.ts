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
  /** Named tokens (`cluster.api.tokens`): requests made with them are recorded under the name. */
  named?: ReadonlyArray<{ name: string; token: string; access: 'read-write' | 'read-only' }>;
}

/** Names of the tokens that are not named in the config. */
export const DEFAULT_TOKEN_NAMES = { readWrite: 'admin', readOnly: 'read-only', peer: 'peer' } as const;

/**
 * Bearer-token check. Both sides are hashed first so the comparison is constant-time
 * whatever the lengths (timingSafeEqual needs equal-length buffers), and every configured
 * token is compared on every call, so the time taken does not tell which one matched.
 */
export class TokenAuth {
  private readonly tokens: Array<{ digest: Buffer; access: Access; name: string }>;

  constructor(tokens: Tokens) {
    this.tokens = [
      { digest: digest(tokens.readWrite), access: 'read-write', name: DEFAULT_TOKEN_NAMES.readWrite },
    ];
    if (tokens.readOnly)
      this.tokens.push({
        digest: digest(tokens.readOnly),
        access: 'read-only',
        name: DEFAULT_TOKEN_NAMES.readOnly,
      });
    if (tokens.peer)
      this.tokens.push({ digest: digest(tokens.peer), access: 'peer', name: DEFAULT_TOKEN_NAMES.peer });
    for (const t of tokens.named ?? [])
      this.tokens.push({ digest: digest(t.token), access: t.access, name: t.name });
  }

  /** The access a presented token grants, or undefined when it is not valid. */
  check(presented: string | undefined): Access | undefined {
    return this.identify(presented)?.access;
  }

  /** The access and the name of a presented token, or undefined when it is not valid. */
  identify(presented: string | undefined): { access: Access; name: string } | undefined {
    if (!presented) return undefined;
    const d = digest(presented);
    let found: { access: Access; name: string } | undefined;
    for (const t of this.tokens)
      if (timingSafeEqual(d, t.digest) && !found) found = { access: t.access, name: t.name };
    return found;
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
