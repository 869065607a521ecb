import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { HaloError } from '../errors.js';
import { privateFileProblem } from '../util/private-file.js';
import type { ConfigCatalog } from './catalog.js';
import { crossCheck } from './cross-checks.js';
import type { HaloConfig, Timing } from './model.js';
import { normalize, resolveTiming } from './normalize.js';
import { type ConfigProblem, configInvalid } from './problems.js';
import { buildConfigSchema, type RawConfig, timingSchema } from './schema.js';

const TIMING_KEYS: Record<keyof Timing, string | undefined> = {
  profile: undefined,
  heartbeatMs: 'heartbeat',
  leaseMs: 'lease',
  renewMs: 'renew',
  stopBudgetMs: 'stopBudget',
};

export interface LoadOptions {
  /** Check that key and token files exist and are private (default true). */
  checkFiles?: boolean;
}

export interface ParseOptions extends LoadOptions {
  /** Directory relative file paths are resolved from (default: the working directory). */
  baseDir?: string;
  /** Absolute path of the file, recorded in the config. */
  absPath?: string;
}

/**
 * Reads, validates and normalizes a config file against a catalog of plugin specs and timing
 * rules; throws HALO_E_CONFIG_* listing every problem. The rest of Halo calls the bound
 * `loadConfig` of src/engine/config-catalog.ts.
 */
export function loadConfigWith(catalog: ConfigCatalog, file: string, options: LoadOptions = {}): HaloConfig {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new HaloError(
      'HALO_E_CONFIG_READ',
      `${file}: cannot read the configuration file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      {
        file,
      },
    );
  }
  return parseConfigWith(catalog, text, file, { ...options, baseDir: dirname(path), absPath: path });
}

export function parseConfigWith(
  catalog: ConfigCatalog,
  text: string,
  file: string,
  options: ParseOptions = {},
): HaloConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, lineCounter, prettyErrors: false });
  const problems: ConfigProblem[] = [];
  for (const err of doc.errors) {
    const pos = lineCounter.linePos(err.pos[0]);
    const message =
      err.code === 'DUPLICATE_KEY'
        ? 'duplicate key: each name may appear only once in a map'
        : `YAML syntax: ${err.message.split('\n')[0]}`;
    problems.push({ path: [], message, line: pos.line, column: pos.col });
  }
  if (problems.length > 0 && doc.errors.some((e) => e.code !== 'DUPLICATE_KEY'))
    throw configInvalid(file, problems);

  const raw: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const located: ConfigProblem[] = [];
  const result = buildConfigSchema(catalog).safeParse(raw);
  if (!result.success) located.push(...zodProblems(result.error, raw));
  located.push(...crossCheck(raw, catalog));
  if (result.success) located.push(...typeChecks(result.data, catalog));
  located.push(...timingCheck(raw, catalog));
  if (options.checkFiles !== false) located.push(...fileChecks(raw, options.baseDir ?? process.cwd()));

  for (const p of located) {
    const node = nearestNode(doc.contents as Node | null, p.path);
    if (node?.range) {
      const pos = lineCounter.linePos(node.range[0]);
      p.line = pos.line;
      p.column = pos.col;
    }
  }
  problems.push(...located);
  if (problems.length > 0 || !result.success) {
    problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    throw configInvalid(file, problems);
  }
  const config = normalize(result.data, options.absPath ?? resolve(file), catalog.timingProfiles);
  const baseDir = options.baseDir ?? process.cwd();
  config.cluster.secretFile = resolveFrom(baseDir, config.cluster.secretFile);
  for (const key of ['tokenFile', 'readOnlyTokenFile'] as const) {
    const value = config.cluster.api[key];
    if (value !== undefined) config.cluster.api[key] = resolveFrom(baseDir, value);
  }
  for (const r of config.alerts ?? []) {
    if (r.type === 'webhook' && r.secretFile !== undefined) r.secretFile = resolveFrom(baseDir, r.secretFile);
    if (r.type === 'smtp' && r.passwordFile !== undefined)
      r.passwordFile = resolveFrom(baseDir, r.passwordFile);
  }
  return deepFreeze(config);
}

function zodProblems(error: z.ZodError, raw: unknown): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const issue of error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: [...path, key], message: `unknown key "${key}"` });
    } else if (path.length > 0 && isMissing(raw, path)) {
      out.push({ path, message: `missing required key; ${issue.message}` });
    } else {
      out.push({ path, message: issue.message });
    }
  }
  return out;
}

/** True when the parent of `path` is a map that lacks the last key. */
function isMissing(raw: unknown, path: Array<string | number>): boolean {
  let node: unknown = raw;
  for (const part of path.slice(0, -1)) {
    if (typeof node !== 'object' || node === null) return false;
    node = (node as Record<string | number, unknown>)[part];
  }
  return typeof node === 'object' && node !== null && !Array.isArray(node) && !(String(path.at(-1)) in node);
}

/** Each resource and monitor type's own deeper checks (`validate`), on the parsed parameters. */
function typeChecks(data: RawConfig, catalog: ConfigCatalog): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const run = (
    path: Array<string | number>,
    validate: ((params: never) => Array<[string, string]>) | undefined,
    entry: Record<string, unknown>,
  ) => {
    for (const [paramPath, message] of validate?.(entry as never) ?? []) {
      // "routeTables[1]" or "timeout.check" → path segments
      const segments = (paramPath.match(/[^.[\]]+/g) ?? []).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
      out.push({ path: [...path, ...segments], message });
    }
  };
  for (const [g, group] of Object.entries(data.groups)) {
    for (const [r, res] of Object.entries(group.resources)) {
      run(['groups', g, 'resources', r], catalog.resources.get(res['type'] as string)?.validate, res);
    }
    for (const [m, mon] of Object.entries(group.monitors)) {
      run(['groups', g, 'monitors', m], catalog.monitors.get(mon['type'] as string)?.validate, mon);
    }
  }
  for (const [m, mon] of Object.entries(data.monitors))
    run(['monitors', m], catalog.monitors.get(mon['type'] as string)?.validate, mon);
  return out;
}

function timingCheck(raw: unknown, catalog: ConfigCatalog): ConfigProblem[] {
  const timing = (raw as { cluster?: { timing?: unknown } } | null)?.cluster?.timing;
  if (timing === undefined) return [];
  const parsed = timingSchema.safeParse(timing);
  if (!parsed.success) return [];
  return catalog.timingProblems(resolveTiming(parsed.data, catalog.timingProfiles)).map(([key, message]) => ({
    path:
      typeof timing === 'string' || !TIMING_KEYS[key]
        ? ['cluster', 'timing']
        : ['cluster', 'timing', TIMING_KEYS[key]],
    message: `unsafe timing: ${message}`,
  }));
}

function fileChecks(raw: unknown, baseDir: string): ConfigProblem[] {
  const cluster = (raw as { cluster?: Record<string, unknown> } | null)?.cluster;
  if (typeof cluster !== 'object' || cluster === null) return [];
  const out: ConfigProblem[] = [];
  const check = (path: string[], value: unknown, what: string) => {
    if (typeof value !== 'string' || value === '') return;
    const problem = privateFileProblem(resolveFrom(baseDir, value), what);
    if (problem) out.push({ path, message: problem });
  };
  check(['cluster', 'secretFile'], cluster['secretFile'], 'cluster key');
  const api = cluster['api'] as Record<string, unknown> | undefined;
  if (api && typeof api === 'object') {
    check(['cluster', 'api', 'tokenFile'], api['tokenFile'], 'API token');
    check(['cluster', 'api', 'readOnlyTokenFile'], api['readOnlyTokenFile'], 'read-only API token');
  }
  const alerts = (raw as { alerts?: unknown }).alerts;
  if (typeof alerts === 'object' && alerts !== null) {
    for (const [name, r] of Object.entries(alerts as Record<string, Record<string, unknown> | null>)) {
      if (typeof r !== 'object' || r === null) continue;
      check(['alerts', name, 'secretFile'], r['secretFile'], 'webhook secret');
      check(['alerts', name, 'passwordFile'], r['passwordFile'], 'SMTP password');
    }
  }
  return out;
}

function resolveFrom(baseDir: string, file: string): string {
  return isAbsolute(file) ? file : resolve(baseDir, file);
}

function nearestNode(root: Node | null, path: Array<string | number>): Node | undefined {
  let node: Node | null | undefined = root;
  let best: Node | undefined = root ?? undefined;
  for (const part of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => (it.key as { value?: unknown } | null)?.value === part);
      if (!pair) break;
      best = (pair.key as Node | null) ?? best;
      node = pair.value as Node | null;
      if (node) best = node;
    } else if (isSeq(node) && typeof part === 'number') {
      node = node.items[part] as Node | null | undefined;
      if (!node) break;
      best = node;
    } else break;
  }
  return best;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
