import type { CoreEvent, LogLine } from '../shell/coordinator-shell.js';
import type { ClusterIntent, MemberView } from '../types.js';
import { type EtcdKeys, type NodeRecord, parseJson, parseNode, parseOwner } from './etcd-keys.js';

/**
 * What this agent knows of the keys under the cluster's prefix, rebuilt from watch events
 * and full reads in any interleaving: per key, the newest revision wins, so a slow full read
 * never undoes a newer watch event, and a key missing from a full read counts as deleted at
 * that read's revision. Pure: it records what changed in an {@link EtcdOutputBuffer} and hands
 * group keys to the core, which decides what they mean for the leases held here.
 */

/** One key as etcd reports it (the etcd3 client's IKeyValue, reduced to what matters). */
export interface KeyValue {
  key: string;
  value: Buffer | string;
  createRevision: string;
  modRevision: number;
  /** The lease the key is attached to ('0': none). */
  lease: string;
}

/** A group key changed (its owner record and term, or its deletion), or a release was recorded. */
export type GroupNews =
  | { kind: 'put'; group: string; owner: string | null; term: string; lease: string }
  | { kind: 'deleted'; group: string }
  /** The owner of `term` deleted the group's key itself (a planned release). */
  | { kind: 'released'; group: string; term: string };

/** Collects the output of one step; commands are the backend's own type. */
export class EtcdOutputBuffer<C> {
  commands: Array<C | ({ type: 'log' } & LogLine)> = [];
  events: CoreEvent[] = [];

  log(level: LogLine['level'], msg: string, fields?: Record<string, unknown>): void {
    this.commands.push({ type: 'log', level, msg, ...(fields ? { fields } : {}) });
  }

  take(): { commands: Array<C | ({ type: 'log' } & LogLine)>; events: CoreEvent[] } {
    const out = { commands: this.commands, events: this.events };
    this.commands = [];
    this.events = [];
    return out;
  }
}

export interface MirrorOptions {
  epoch: number;
  groups: readonly string[];
  nodes: readonly string[];
  keys: EtcdKeys;
  out: EtcdOutputBuffer<unknown>;
  onGroup: (news: GroupNews, now: number) => void;
}

export class EtcdMirror {
  private readonly opts: MirrorOptions;
  private readonly keyRev = new Map<string, number>();
  private readonly nodes = new Map<string, { record: NodeRecord | null; lastSeenAt: number | null }>();
  private readonly owners = new Map<string, { owner: string | null; term: string | null }>();
  private intentMap: ClusterIntent = {};
  /** Set once etcd holds another config epoch than ours: from then on nothing is acquired. */
  epochMismatch: string | null = null;

  constructor(opts: MirrorOptions) {
    this.opts = opts;
  }

  intent(): ClusterIntent {
    return { ...this.intentMap };
  }

  /** Who etcd shows as the group's owner (null: free, or not known yet). */
  ownerOf(group: string): string | null {
    return this.owners.get(group)?.owner ?? null;
  }

  /** The term etcd shows for the group (null: free, or not known yet). */
  termOf(group: string): string | null {
    return this.owners.get(group)?.term ?? null;
  }

  hasOwnerEntry(group: string): boolean {
    return this.owners.has(group);
  }

  setOwner(group: string, owner: string | null, term: string | null): void {
    const prev = this.owners.get(group);
    if (prev && prev.owner === owner && prev.term === term) return;
    this.owners.set(group, { owner, term });
    this.opts.out.events.push({ type: 'owner', group, owner, term });
  }

  /** Our own write of a key at `rev`: later reads of older revisions must not undo it. */
  noteRevision(key: string, rev: number): void {
    this.keyRev.set(key, Math.max(this.keyRev.get(key) ?? 0, rev));
  }

  members(now: number): MemberView[] {
    return this.opts.nodes.map((name) => {
      const seen = this.nodes.get(name);
      const up = seen?.record != null;
      return {
        name,
        kind: 'node',
        up,
        eligible: seen?.record?.eligible ?? false,
        reasons: seen?.record?.reasons ?? [],
        lastSeenAgoMs: up ? 0 : seen?.lastSeenAt != null ? Math.round(now - seen.lastSeenAt) : null,
        rttMs: null,
        configEpoch: seen?.record?.epoch ?? null,
      };
    });
  }

  /** A full read at `revision`: every key in it, and every known key missing from it. */
  applySnapshot(revision: number, kvs: readonly KeyValue[], now: number): void {
    const seen = new Set<string>();
    for (const kv of kvs) {
      seen.add(kv.key);
      this.applyKv(kv, revision, now);
    }
    const { keys } = this.opts;
    const known = [
      ...this.opts.groups.map((g) => keys.group(g)),
      ...this.opts.nodes.map((n) => keys.node(n)),
      ...Object.keys(this.intentMap).map((k) => keys.intent(k)),
    ];
    for (const key of known) if (!seen.has(key)) this.applyDelete(key, revision, now);
  }

  applyKv(kv: KeyValue, rev: number, now: number): void {
    const parsed = this.opts.keys.parse(kv.key);
    if (parsed.kind === 'intent') {
      if (this.applyIntent(kv.key, parsed.name, parseJson(kv.value), rev, kv.modRevision))
        this.opts.out.events.push({ type: 'intent', intent: this.intent() });
      return;
    }
    if (!this.fresh(kv.key, rev)) return;
    if (parsed.kind === 'epoch') {
      const epoch = Number(kv.value.toString());
      if (epoch !== this.opts.epoch && this.epochMismatch === null) {
        this.epochMismatch = `etcd now holds config epoch ${epoch}, this agent runs ${this.opts.epoch}`;
        this.opts.out.log('error', 'config epoch changed in etcd: acquiring nothing', {
          epoch,
          ours: this.opts.epoch,
        });
      }
    } else if (parsed.kind === 'node') {
      this.setNode(parsed.name, parseNode(kv.value), now);
    } else if (parsed.kind === 'group') {
      const owner = parseOwner(kv.value);
      this.opts.onGroup(
        {
          kind: 'put',
          group: parsed.name,
          owner: owner?.node ?? null,
          term: kv.createRevision,
          lease: kv.lease,
        },
        now,
      );
    } else if (parsed.kind === 'released') {
      this.opts.onGroup({ kind: 'released', group: parsed.name, term: kv.value.toString() }, now);
    }
  }

  applyDelete(key: string, rev: number, now: number): void {
    const parsed = this.opts.keys.parse(key);
    if (!this.fresh(key, rev)) return;
    if (parsed.kind === 'node') this.setNode(parsed.name, null, now);
    else if (parsed.kind === 'intent') {
      if (parsed.name in this.intentMap) {
        delete this.intentMap[parsed.name];
        this.opts.out.events.push({ type: 'intent', intent: this.intent() });
      }
    } else if (parsed.kind === 'group') this.opts.onGroup({ kind: 'deleted', group: parsed.name }, now);
  }

  /** Intent entries written here were committed at `revision`. */
  intentWritten(entries: ReadonlyArray<[string, unknown]>, revision: number): void {
    let changed = false;
    for (const [k, v] of entries)
      changed = this.applyIntent(this.opts.keys.intent(k), k, v, revision) || changed;
    if (changed) this.opts.out.events.push({ type: 'intent', intent: this.intent() });
  }

  private applyIntent(key: string, name: string, value: unknown, rev: number, modRev = rev): boolean {
    if (!this.fresh(key, rev)) return false;
    const cur = this.intentMap[name];
    if (cur && cur.version >= modRev) return false;
    this.intentMap[name] = { value, version: modRev };
    return true;
  }

  /** Newest revision wins per key. */
  private fresh(key: string, rev: number): boolean {
    if ((this.keyRev.get(key) ?? 0) > rev) return false;
    this.keyRev.set(key, rev);
    return true;
  }

  private setNode(name: string, record: NodeRecord | null, now: number): void {
    const cur = this.nodes.get(name);
    const wasUp = cur?.record != null;
    const changed =
      wasUp !== (record !== null) ||
      cur?.record?.eligible !== record?.eligible ||
      JSON.stringify(cur?.record?.reasons) !== JSON.stringify(record?.reasons);
    const lastSeenAt = record !== null || wasUp ? now : (cur?.lastSeenAt ?? null);
    this.nodes.set(name, { record, lastSeenAt });
    if (changed) this.opts.out.events.push({ type: 'membership' });
  }
}
