import type { ClusterIntent } from '../coordination/types.js';

/**
 * The replicated admin intent (a last-writer-wins map, see src/coordination/types.ts) as the
 * scheduler reads it. Absent keys mean the defaults: a group is started, has no preferred
 * node and no failed nodes; a monitor is not suspended; a node is not in standby.
 */

export type GroupIntentState = 'started' | 'stopped';

export interface GroupIntent {
  state: GroupIntentState;
  /** Target of a manual move (or a start `--on`), null when none. */
  preferred: string | null;
  /** Nodes marked failed for this group, in name order. */
  failed: string[];
  /** Why each failed node was marked (when the marking node said so), so every node can show it. */
  failedReasons: Record<string, string>;
  /**
   * When each failed node was marked (wall ms of the marking node), for marks whose time is
   * known: marks written by older peers carry none and never expire.
   */
  failedAt: Record<string, number>;
  /**
   * Marks older than the group's failureTimeout (see failure-expiry.ts), in name order: shown,
   * but no longer counted. `parseIntent` leaves this empty; only `expireFailures` fills it.
   */
  expired: string[];
  /** The group's last `halo cleanup`, so that every node acts on each one once. */
  cleanup: CleanupRequest | null;
  /** Unmanaged: no start, stop, move, monitor or recovery; the deadman leaves it alone too. */
  maintenance: boolean;
  /** Intent version of the group's last `maintenance: false` (0: never left maintenance). */
  managedSince: number;
  /** Per node, the `managedSince` it last probed the group after (see `awaitingProbes`). */
  probed: Record<string, number>;
}

export interface CleanupRequest {
  /** The intent version of the request: a new version is a new cleanup. */
  version: number;
  /** Only this resource's monitors (null: the whole group). */
  resource: string | null;
  /** Only on this node (null: on every node). */
  node: string | null;
}

export interface ParsedIntent {
  groups: Record<string, GroupIntent>;
  /** Monitor keys (`name` or `group/name`) that are suspended. */
  suspended: string[];
  /** Nodes an operator put in standby (`halo node standby`), in name order: they take no group. */
  standbyNodes: string[];
  /** The whole cluster is in maintenance (every group unmanaged, node monitors suspended). */
  maintenance: boolean;
  /** Intent version of the cluster's last `maintenance: false` (0: never). */
  managedSince: number;
}

export const intentKeys = {
  state: (group: string) => `group/${group}/state`,
  preferred: (group: string) => `group/${group}/preferred`,
  failed: (group: string, node: string) => `group/${group}/failed/${node}`,
  /** A separate key: `failed/<node>` stays a plain boolean for peers that only know that one. */
  failedReason: (group: string, node: string) => `group/${group}/failedReason/${node}`,
  /** Wall ms of the mark, written with it: what `failureTimeout` counts from on every node. */
  failedAt: (group: string, node: string) => `group/${group}/failedAt/${node}`,
  /** `{ resource, node }` of the last `halo cleanup`; each node acts on a new version once. */
  cleanup: (group: string) => `group/${group}/cleanup`,
  suspended: (monitorKey: string) => `monitor/${monitorKey}/suspended`,
  maintenance: (group: string) => `group/${group}/maintenance`,
  clusterMaintenance: () => 'cluster/maintenance',
  /** The node probed the group after it left maintenance (value: that `managedSinceOf`). */
  probed: (group: string, node: string) => `group/${group}/probed/${node}`,
  /**
   * `{ node, term }`: the last owner stopped the group cleanly under that term before it
   * released it, so the next owner need not fence it (`fencing: stonith`, docs/fencing.md).
   */
  handover: (group: string) => `group/${group}/handover`,
  standby: (node: string) => `node/${node}/standby`,
};

/** The key a monitor is known by in intent, status and the API: `group/name` or `name`. */
export function monitorKey(group: string | null | undefined, name: string): string {
  return group ? `${group}/${name}` : name;
}

export const DEFAULT_GROUP_INTENT: GroupIntent = Object.freeze({
  state: 'started',
  preferred: null,
  failed: [],
  failedReasons: Object.freeze({}) as Record<string, string>,
  failedAt: Object.freeze({}) as Record<string, number>,
  expired: [],
  cleanup: null,
  maintenance: false,
  managedSince: 0,
  probed: Object.freeze({}) as Record<string, number>,
});

/** The group is unmanaged: by its own maintenance flag or the cluster's. */
export function inMaintenance(intent: ParsedIntent, group: string): boolean {
  return intent.maintenance || groupIntent(intent, group).maintenance;
}

/**
 * The monitor does not run: suspended by an operator, or its group (a node-level monitor: the
 * cluster) is in maintenance, so no failure is counted and nothing is recovered.
 */
export function monitorOff(intent: ParsedIntent, key: string, group: string | null): boolean {
  if (intent.suspended.includes(key)) return true;
  return group === null ? intent.maintenance : inMaintenance(intent, group);
}

/** When the group was last put under management again (0: never in maintenance). */
export function managedSinceOf(intent: ParsedIntent, group: string): number {
  if (inMaintenance(intent, group)) return 0;
  return Math.max(intent.managedSince, groupIntent(intent, group).managedSince);
}

/**
 * Nodes of `nodes` that have not yet probed the group since it left maintenance: until they
 * have, nobody may start it, or it could start while a copy left running there is still up.
 */
export function awaitingProbes(intent: ParsedIntent, group: string, nodes: readonly string[]): string[] {
  const since = managedSinceOf(intent, group);
  if (since === 0) return [];
  const probed = groupIntent(intent, group).probed;
  return nodes.filter((n) => (probed[n] ?? 0) < since);
}

export function groupIntent(intent: ParsedIntent, group: string): GroupIntent {
  return intent.groups[group] ?? DEFAULT_GROUP_INTENT;
}

const GROUP_KEY =
  /^group\/([^/]+)\/(state|preferred|failed|failedReason|failedAt|cleanup|maintenance|probed)(?:\/([^/]+))?$/;
const MONITOR_KEY = /^monitor\/(.+)\/suspended$/;
const STANDBY_KEY = /^node\/([^/]+)\/standby$/;

/** Unknown keys and values of the wrong type are ignored: a newer peer may write more. */
export function parseIntent(intent: ClusterIntent): ParsedIntent {
  const groups: Record<string, GroupIntent> = {};
  const suspended: string[] = [];
  const standbyNodes: string[] = [];
  let maintenance = false;
  let managedSince = 0;
  const reasons: Array<[string, string, string]> = [];
  const times: Array<[string, string, number, number]> = [];
  const markVersions = new Map<string, number>();
  const entry = (g: string) => {
    let gi = groups[g];
    if (!gi) {
      gi = {
        state: 'started',
        preferred: null,
        failed: [],
        failedReasons: {},
        failedAt: {},
        expired: [],
        cleanup: null,
        maintenance: false,
        managedSince: 0,
        probed: {},
      };
      groups[g] = gi;
    }
    return gi;
  };
  for (const key of Object.keys(intent).sort()) {
    const value = intent[key]?.value;
    const version = intent[key]?.version ?? 0;
    if (key === intentKeys.clusterMaintenance()) {
      maintenance = value === true;
      if (value === false) managedSince = version;
      continue;
    }
    const monitor = MONITOR_KEY.exec(key);
    if (monitor) {
      if (value === true) suspended.push(monitor[1]!);
      continue;
    }
    const standby = STANDBY_KEY.exec(key);
    if (standby) {
      if (value === true) standbyNodes.push(standby[1]!);
      continue;
    }
    const match = GROUP_KEY.exec(key);
    if (!match) continue;
    const [, group, field, node] = match as unknown as [string, string, string, string | undefined];
    if (field === 'state' && node === undefined && (value === 'started' || value === 'stopped')) {
      entry(group).state = value;
    } else if (field === 'preferred' && node === undefined && (typeof value === 'string' || value === null)) {
      entry(group).preferred = value === '' ? null : value;
    } else if (field === 'failed' && node !== undefined && value === true) {
      entry(group).failed.push(node);
      markVersions.set(`${group}/${node}`, version);
    } else if (field === 'maintenance' && node === undefined && typeof value === 'boolean') {
      entry(group).maintenance = value;
      if (!value) entry(group).managedSince = version;
    } else if (field === 'probed' && node !== undefined && typeof value === 'number') {
      entry(group).probed[node] = value;
    } else if (field === 'failedReason' && node !== undefined && typeof value === 'string') {
      reasons.push([group, node, value]);
    } else if (field === 'failedAt' && node !== undefined && typeof value === 'number' && value > 0) {
      times.push([group, node, value, version]);
    } else if (field === 'cleanup' && node === undefined && typeof value === 'object' && value !== null) {
      const v = value as { resource?: unknown; node?: unknown };
      entry(group).cleanup = {
        version,
        resource: typeof v.resource === 'string' ? v.resource : null,
        node: typeof v.node === 'string' ? v.node : null,
      };
    }
  }
  // A time written before its mark belongs to an earlier mark (a peer that knows no `failedAt`
  // wrote this one): such a mark has no known time. Both are written in one update, so a time
  // of the current mark has the mark's version (embedded: the same hybrid clock; etcd: the same
  // revision).
  for (const [group, node, at, version] of times) {
    const markVersion = markVersions.get(`${group}/${node}`);
    if (markVersion !== undefined && version >= markVersion) groups[group]!.failedAt[node] = at;
  }
  // A reason outlives its mark (clearing writes only `failed`); show it only with the mark.
  for (const [group, node, reason] of reasons) {
    const gi = groups[group];
    if (gi?.failed.includes(node)) gi.failedReasons[node] = reason;
  }
  return { groups, suspended, standbyNodes, maintenance, managedSince };
}

/**
 * Entries for `Coordinator.updateIntent` that clear the failure marks of a group (counted or
 * expired), on every node or only on `node`.
 */
export function clearFailuresEntries(
  intent: ParsedIntent,
  group: string,
  node?: string,
): Record<string, unknown> {
  const gi = groupIntent(intent, group);
  const entries: Record<string, unknown> = {};
  for (const n of [...gi.failed, ...gi.expired])
    if (node === undefined || n === node) entries[intentKeys.failed(group, n)] = false;
  return entries;
}
