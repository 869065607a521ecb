import { type ConfigCatalog, specMap } from '../config/catalog.js';
import { type LoadOptions, loadConfigWith, type ParseOptions, parseConfigWith } from '../config/load.js';
import type { HaloConfig } from '../config/model.js';
import { TIMING_PROFILES, timingProblems } from '../coordination/timing.js';
import { builtinMonitors } from './monitors/registry.js';
import { builtinResources } from './resources/registry.js';

/**
 * The config catalog of this build: the specs of the built-in plugins (from their one
 * registry) and the lease-timing rules of coordination. It lives in the engine because the
 * config layer may import neither the engine nor coordination; the layers above load config
 * files through the two functions below.
 */
export const builtinCatalog: ConfigCatalog = {
  resources: specMap(builtinResources),
  monitors: specMap(builtinMonitors),
  timingProfiles: TIMING_PROFILES,
  timingProblems,
};

/** Reads, validates and normalizes a config file; throws HALO_E_CONFIG_* listing every problem. */
export function loadConfig(file: string, options: LoadOptions = {}): HaloConfig {
  return loadConfigWith(builtinCatalog, file, options);
}

/** Validates and normalizes config text; `file` names it in messages. */
export function parseConfig(text: string, file: string, options: ParseOptions = {}): HaloConfig {
  return parseConfigWith(builtinCatalog, text, file, options);
}
