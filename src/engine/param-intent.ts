import type { ClusterIntent } from '../coordination/types.js';

/**
 * Parameter overrides as cluster state (`halo resource set` from any node). Each changed key
 * is one entry of the replicated intent, `param/<group>/<resource>/<key>`, holding the value
 * as the type's schema parsed it on the node that accepted it (so every node applies the
 * same value without parsing again); a later write of the same key wins, a `null` value
 * drops the override (the config file's value is back).
 *
 * The node running a resource records which overrides it runs with in
 * `applied/<group>/<resource>` (`{ node, values, versions }`), so every node can say which
 * accepted values are still pending until that resource next starts.
 */

export const paramIntentKeys = {
  param: (group: string, resource: string, key: string) => `param/${group}/${resource}/${key}`,
  applied: (group: string, resource: string) => `applied/${group}/${resource}`,
};

export interface ParamOverride {
  value: unknown;
  /** The intent entry's version: replicated, so every node orders overrides the same way. */
  version: number;
}

export interface AppliedRecord {
  node: string;
  values: Record<string, unknown>;
  versions: Record<string, number>;
}

export interface ResourceParamIntent {
  overrides: Record<string, ParamOverride>;
  applied: AppliedRecord | null;
}

const PARAM_KEY = /^param\/([^/]+)\/([^/]+)\/([^/]+)$/;
const APPLIED_KEY = /^applied\/([^/]+)\/([^/]+)$/;

/** `group/resource` → its overrides and applied record; resources without either are absent. */
export function parseParamIntent(intent: ClusterIntent): Map<string, ResourceParamIntent> {
  const out = new Map<string, ResourceParamIntent>();
  const entry = (g: string, r: string) => {
    const id = `${g}/${r}`;
    let e = out.get(id);
    if (!e) {
      e = { overrides: {}, applied: null };
      out.set(id, e);
    }
    return e;
  };
  for (const [key, { value, version }] of Object.entries(intent)) {
    const param = PARAM_KEY.exec(key);
    if (param) {
      if (value !== null && value !== undefined)
        entry(param[1]!, param[2]!).overrides[param[3]!] = { value, version };
      continue;
    }
    const applied = APPLIED_KEY.exec(key);
    if (applied && isAppliedRecord(value)) entry(applied[1]!, applied[2]!).applied = value;
  }
  return out;
}

function isAppliedRecord(v: unknown): v is AppliedRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r['node'] === 'string' && isObject(r['values']) && isObject(r['versions']);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Overrides not yet part of what this node's instance runs with (`known`: key → version). */
export function newOverrides(
  overrides: Readonly<Record<string, ParamOverride>>,
  known: Readonly<Record<string, number>>,
): Record<string, ParamOverride> {
  const out: Record<string, ParamOverride> = {};
  for (const [k, o] of Object.entries(overrides)) if (known[k] !== o.version) out[k] = o;
  return out;
}

export interface ParamsView {
  /** The values in effect where the resource runs (accepted values when it runs nowhere). */
  params: Record<string, unknown>;
  /** Accepted values still waiting for the resource's next start. */
  pending: Record<string, unknown>;
}

/**
 * What a node that does not run the resource shows: with an owner, the owner's applied record
 * says which overrides it runs with (a record by another node is from an earlier run: none of
 * the overrides are in effect then); without one, every accepted value applies at the next
 * start, so nothing is pending.
 */
export function remoteParamsView(
  configParams: Readonly<Record<string, unknown>>,
  state: ResourceParamIntent | undefined,
  owner: string | null,
): ParamsView {
  const overrides = state?.overrides ?? {};
  if (owner === null) {
    return {
      params: {
        ...configParams,
        ...Object.fromEntries(Object.entries(overrides).map(([k, o]) => [k, o.value])),
      },
      pending: {},
    };
  }
  const applied = state?.applied?.node === owner ? state.applied : null;
  const pending: Record<string, unknown> = {};
  for (const [k, o] of Object.entries(overrides))
    if (applied?.versions[k] !== o.version) pending[k] = o.value;
  return { params: { ...configParams, ...(applied?.values ?? {}) }, pending };
}
