import { isDeepStrictEqual } from 'node:util';
import type { GroupConfig, HaloConfig, MonitorConfig } from './model.js';

/** A resource whose parameters the new config changes: the new value of each key (undefined: removed). */
export interface ParamChange {
  resource: string;
  values: Record<string, unknown>;
}

export interface MonitorChanges {
  added: string[];
  changed: string[];
  removed: string[];
}

export interface GroupChange {
  group: string;
  params: ParamChange[];
  monitors: MonitorChanges;
  /** probeInterval, failureTimeout or finalAction changed (read where they are used). */
  settings: boolean;
}

/**
 * What `halo config apply` does to a running agent. `needsRestart` lists what the agents
 * coordinate on and cannot change while running (see coordinationPart in normalize.ts): when it
 * is not empty, nothing is applied and the rolling restart of `halo config push` is the way.
 */
export interface ConfigDiff {
  needsRestart: string[];
  groups: GroupChange[];
  nodeMonitors: MonitorChanges;
  alerts: boolean;
}

/** Compares two configs of the same cluster. Pure. */
export function diffConfig(running: HaloConfig, next: HaloConfig): ConfigDiff {
  const needsRestart: string[] = [];
  for (const part of ['cluster', 'nodes', 'witness'] as const)
    if (!isDeepStrictEqual(running[part], next[part])) needsRestart.push(part);
  const names = (c: HaloConfig) => c.groups.map((g) => g.name);
  if (!isDeepStrictEqual(names(running), names(next)))
    needsRestart.push(`groups (added, removed or reordered: ${names(next).join(', ') || 'none'})`);
  const groups: GroupChange[] = [];
  for (const g of next.groups) {
    const old = running.groups.find((o) => o.name === g.name);
    if (!old) continue;
    const structural = structuralChange(old, g);
    if (structural) {
      needsRestart.push(`groups.${g.name}.${structural}`);
      continue;
    }
    const change: GroupChange = {
      group: g.name,
      params: paramChanges(old, g),
      monitors: monitorChanges(old.monitors, g.monitors),
      settings:
        old.probeIntervalMs !== g.probeIntervalMs ||
        old.failureTimeoutMs !== g.failureTimeoutMs ||
        !isDeepStrictEqual(old.finalAction, g.finalAction),
    };
    if (change.params.length > 0 || touched(change.monitors) || change.settings) groups.push(change);
  }
  return {
    needsRestart,
    groups,
    nodeMonitors: monitorChanges(running.monitors, next.monitors),
    alerts: !isDeepStrictEqual(running.alerts ?? [], next.alerts ?? []),
  };
}

/** Nothing at all to do: the same content. */
export function isEmptyDiff(d: ConfigDiff): boolean {
  return d.needsRestart.length === 0 && d.groups.length === 0 && !touched(d.nodeMonitors) && !d.alerts;
}

function touched(m: MonitorChanges): boolean {
  return m.added.length + m.changed.length + m.removed.length > 0;
}

/** The first field (a path below the group) that only a restart of the agents can change. */
function structuralChange(old: GroupConfig, next: GroupConfig): string | null {
  for (const key of ['nodes', 'autoFailback', 'fencing', 'stonith'] as const)
    if (!isDeepStrictEqual(old[key], next[key])) return key;
  const shape = (g: GroupConfig) => g.resources.map((r) => ({ name: r.name, type: r.type, after: r.after }));
  if (!isDeepStrictEqual(shape(old), shape(next))) return 'resources (added, removed, type or order)';
  return null;
}

function paramChanges(old: GroupConfig, next: GroupConfig): ParamChange[] {
  const out: ParamChange[] = [];
  for (const r of next.resources) {
    const before = old.resources.find((o) => o.name === r.name)?.params ?? {};
    const values: Record<string, unknown> = {};
    for (const key of new Set([...Object.keys(before), ...Object.keys(r.params)]))
      if (!isDeepStrictEqual(before[key], r.params[key])) values[key] = r.params[key];
    if (Object.keys(values).length > 0) out.push({ resource: r.name, values });
  }
  return out;
}

function monitorChanges(old: readonly MonitorConfig[], next: readonly MonitorConfig[]): MonitorChanges {
  const byName = new Map(old.map((m) => [m.name, m]));
  const added: string[] = [];
  const changed: string[] = [];
  for (const m of next) {
    const before = byName.get(m.name);
    if (!before) added.push(m.name);
    else if (!isDeepStrictEqual(before, m)) changed.push(m.name);
  }
  const removed = old.filter((m) => !next.some((n) => n.name === m.name)).map((m) => m.name);
  return { added, changed, removed };
}
