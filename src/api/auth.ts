import { createHash, timingSafeEqual } from 'node:crypto';

export type Access = 'read-write' | 'read-only';

/**
 * Bearer-token check. Both sides are hashed first so the comparison is constant-time
 * whatever the lengths (timingSafeEqual needs equal-length buffers).
 */
export class TokenAuth {
  private readonly tokens: Array<{ digest: Buffer; access: Access }>;

  constructor(tokens: { readWrite: string; readOnly?: string | undefined }) {
    this.tokens = [{ digest: digest(tokens.readWrite), access: 'read-write' }];
    if (tokens.readOnly) this.tokens.push({ digest: digest(tokens.readOnly), access: 'read-only' });
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
