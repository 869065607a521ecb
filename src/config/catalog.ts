import type { z } from 'zod';
import type { Timing, TimingProfileName } from './model.js';

/**
 * What the config layer needs to know about the things it validates but does not own.
 *
 * Config sits at the bottom of the layering: it must not import the engine (where resource
 * and monitor plugins live) nor coordination (where lease timing is computed). Yet the
 * validator, the JSON Schema and docs/configuration.md need every plugin's parameter schema
 * and description, and the lease-safety rules. So config declares here the *shape* of that
 * knowledge, and the layer that owns it hands a catalog in: the engine builds the built-in
 * catalog from its one plugin registry (src/engine/config-catalog.ts).
 */

/** Problems found by a plugin's own deeper checks, as [paramPath, message]. */
export type ParamProblems = Array<[string, string]>;

/** The schema-and-docs half of a resource plugin (its implementation lives in the engine). */
export interface ResourceSpec<P extends Record<string, unknown> = Record<string, unknown>> {
  /** The `type` key users write in the YAML. */
  type: string;
  /** One line for docs/configuration.md and the JSON Schema. */
  description: string;
  /** The type's own parameter keys (besides `type` and `after`), every one described. */
  params: z.ZodType<P> & z.ZodObject;
  /** Deeper checks than the schema can express, run on the parsed parameters. */
  validate?(params: P): ParamProblems;
  /**
   * Fills in what the schema cannot default statically, once the config is valid (the `ocf`
   * type: the timeouts its agent advertises in its meta-data). Returns the completed params.
   */
  complete?(params: P): P;
  /** Params whose values must be unique across all groups (e.g. a VIP or probe port). */
  uniqueAcrossGroups?: string[];
  /** Map params keyed by node name (e.g. an ENI per node): each key must be a node of the group. */
  nodeKeyed?: string[];
  /** List params naming monitors of the same group (e.g. a health gate). */
  monitorLists?: string[];
}

/** The schema-and-docs half of a monitor plugin. */
export interface MonitorSpec<P extends Record<string, unknown> = Record<string, unknown>> {
  type: string;
  description: string;
  params: z.ZodType<P> & z.ZodObject;
  validate?(params: P): ParamProblems;
  /** `always`: needs a `target` resource of its group; `never`: must not have one; `optional`. */
  target: 'always' | 'never' | 'optional';
}

export interface ConfigCatalog {
  resources: ReadonlyMap<string, ResourceSpec>;
  monitors: ReadonlyMap<string, MonitorSpec>;
  /** The values behind each timing profile name. */
  timingProfiles: Readonly<Record<TimingProfileName, Timing>>;
  /** Why a set of timing values is unsafe, as [key, message]; empty when usable. */
  timingProblems(timing: Timing): Array<[keyof Timing, string]>;
}

/** Indexes specs by their `type` key. */
export function specMap<S extends { type: string }>(specs: readonly S[]): ReadonlyMap<string, S> {
  const map = new Map<string, S>();
  for (const spec of specs) {
    if (map.has(spec.type)) throw new Error(`two plugins register the type "${spec.type}"`);
    map.set(spec.type, spec);
  }
  return map;
}
