/**
 * The etcd key layout of one Halo cluster (docs/coordination-etcd.md). Everything lives
 * under the configured prefix, so several clusters can share one etcd:
 *
 * - `<prefix>/epoch` → the config epoch every agent must run (no lease)
 * - `<prefix>/nodes/<node>` → {@link NodeRecord}, attached to the node's lease (up = present)
 * - `<prefix>/groups/<group>` → {@link OwnerRecord}, attached to the owner's lease; the key's
 *   create revision is the term (fencing token)
 * - `<prefix>/released/<group>` → the term of the group's last planned release (no lease):
 *   written in the same transaction that deletes the group key, so the other nodes can tell a
 *   handover from a key that vanished behind its owner's back
 * - `<prefix>/intent/<intent key>` → JSON value; the key's mod revision is its version
 */

export interface OwnerRecord {
  node: string;
  bootId: string;
}

export interface NodeRecord {
  bootId: string;
  epoch: number;
  eligible: boolean;
  reasons: string[];
}

export type ParsedKey =
  | { kind: 'epoch' }
  | { kind: 'node'; name: string }
  | { kind: 'group'; name: string }
  | { kind: 'intent'; name: string }
  | { kind: 'released'; name: string }
  | { kind: 'other' };

export class EtcdKeys {
  readonly root: string;

  constructor(prefix: string) {
    // "/halo/" and "/halo" name the same tree.
    this.root = `${prefix.replace(/\/+$/, '')}/`;
  }

  epoch(): string {
    return `${this.root}epoch`;
  }

  node(name: string): string {
    return `${this.root}nodes/${name}`;
  }

  group(name: string): string {
    return `${this.root}groups/${name}`;
  }

  intent(name: string): string {
    return `${this.root}intent/${name}`;
  }

  released(group: string): string {
    return `${this.root}released/${group}`;
  }

  parse(key: string): ParsedKey {
    if (!key.startsWith(this.root)) return { kind: 'other' };
    const rest = key.slice(this.root.length);
    if (rest === 'epoch') return { kind: 'epoch' };
    for (const kind of ['node', 'group', 'intent', 'released'] as const) {
      const dir = kind === 'intent' || kind === 'released' ? `${kind}/` : `${kind}s/`;
      if (rest.startsWith(dir) && rest.length > dir.length) return { kind, name: rest.slice(dir.length) };
    }
    return { kind: 'other' };
  }
}

export function parseOwner(value: Buffer | string): OwnerRecord | null {
  const v = parseJson(value) as Partial<OwnerRecord> | null;
  if (v === null || typeof v.node !== 'string') return null;
  return { node: v.node, bootId: typeof v.bootId === 'string' ? v.bootId : '' };
}

export function parseNode(value: Buffer | string): NodeRecord | null {
  const v = parseJson(value) as Partial<NodeRecord> | null;
  if (v === null || typeof v.bootId !== 'string') return null;
  return {
    bootId: v.bootId,
    epoch: typeof v.epoch === 'number' ? v.epoch : Number.NaN,
    eligible: v.eligible !== false,
    reasons: Array.isArray(v.reasons) ? v.reasons.filter((r): r is string => typeof r === 'string') : [],
  };
}

/** Parsed JSON, or null when the value is not JSON (written by something else than Halo). */
export function parseJson(value: Buffer | string): unknown {
  try {
    return JSON.parse(typeof value === 'string' ? value : value.toString('utf8')) as unknown;
  } catch {
    return null;
  }
}
