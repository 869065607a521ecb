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
}

export interface ParsedIntent {
  groups: Record<string, GroupIntent>;
  /** Monitor keys (`name` or `group/name`) that are suspended. */
  suspended: string[];
  /** Nodes an operator put in standby (`halo node standby`), in name order: they take no group. */
  standbyNodes: string[];
}

export const intentKeys = {
  state: (group: string) => `group/${group}/state`,
  preferred: (group: string) => `group/${group}/preferred`,
  failed: (group: string, node: string) => `group/${group}/failed/${node}`,
  /** A separate key: `failed/<node>` stays a plain boolean for peers that only know that one. */
  failedReason: (group: string, node: string) => `group/${group}/failedReason/${node}`,
  suspended: (monitorKey: string) => `monitor/${monitorKey}/suspended`,
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
});

export function groupIntent(intent: ParsedIntent, group: string): GroupIntent {
  return intent.groups[group] ?? DEFAULT_GROUP_INTENT;
}

const GROUP_KEY = /^group\/([^/]+)\/(state|preferred|failed|failedReason)(?:\/([^/]+))?$/;
const MONITOR_KEY = /^monitor\/(.+)\/suspended$/;
const STANDBY_KEY = /^node\/([^/]+)\/standby$/;

/** Unknown keys and values of the wrong type are ignored: a newer peer may write more. */
export function parseIntent(intent: ClusterIntent): ParsedIntent {
  const groups: Record<string, GroupIntent> = {};
  const suspended: string[] = [];
  const standbyNodes: string[] = [];
  const reasons: Array<[string, string, string]> = [];
  const entry = (g: string) => {
    let gi = groups[g];
    if (!gi) {
      gi = { state: 'started', preferred: null, failed: [], failedReasons: {} };
      groups[g] = gi;
    }
    return gi;
  };
  for (const key of Object.keys(intent).sort()) {
    const value = intent[key]?.value;
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
    } else if (field === 'failedReason' && node !== undefined && typeof value === 'string') {
      reasons.push([group, node, value]);
    }
  }
  // A reason outlives its mark (clearing writes only `failed`); show it only with the mark.
  for (const [group, node, reason] of reasons) {
    const gi = groups[group];
    if (gi?.failed.includes(node)) gi.failedReasons[node] = reason;
  }
  return { groups, suspended, standbyNodes };
}

/** Entries for `Coordinator.updateIntent` that clear every failure mark of a group. */
export function clearFailuresEntries(intent: ParsedIntent, group: string): Record<string, unknown> {
  const entries: Record<string, unknown> = {};
  for (const node of groupIntent(intent, group).failed) entries[intentKeys.failed(group, node)] = false;
  return entries;
}
