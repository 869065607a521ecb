import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { HaloError } from '../errors.js';
import { privateFileProblem, secretContentProblem } from '../util/private-file.js';
import type { ConfigCatalog } from './catalog.js';
import { commandFieldNames } from './command-args.js';
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

/**
 * The largest config file Halo reads: checked before parsing, so a runaway file cannot keep
 * the agent (config push) or the CLI busy. A generated 1000-group config is about 0.4 MiB.
 */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** YAML aliases expanded at most this many times (a "billion laughs" file stops here). */
const MAX_ALIAS_COUNT = 100;

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
    const size = statSync(path).size;
    if (size > MAX_CONFIG_BYTES) throw tooLarge(file, size);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof HaloError) throw err;
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
  const size = Buffer.byteLength(text, 'utf8');
  if (size > MAX_CONFIG_BYTES) throw tooLarge(file, size);
  const lineCounter = new LineCounter();
  // uniqueKeys is off: the yaml library checks each key against every earlier key of its map
  // (quadratic: 14 s for 40 000 keys); duplicateKeys below does it with a set, and names the key.
  const doc = parseDocument(text, { uniqueKeys: false, lineCounter, prettyErrors: false });
  const problems: ConfigProblem[] = [];
  for (const err of doc.errors) {
    const pos = lineCounter.linePos(err.pos[0]);
    problems.push({
      path: [],
      message: `YAML syntax: ${err.message.split('\n')[0]}`,
      line: pos.line,
      column: pos.col,
    });
  }
  if (problems.length > 0) throw configInvalid(file, problems);
  for (const dup of walkDocument(doc.contents as Node | null, commandFieldNames(catalog))) {
    const pos = lineCounter.linePos(dup.offset);
    problems.push({ path: dup.path, message: dup.message, line: pos.line, column: pos.col });
  }

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (err) {
    // The yaml library throws a ReferenceError when aliases expand past maxAliasCount.
    problems.push({
      path: [],
      message: `YAML aliases expand too much (${(err as Error).message}); at most ${MAX_ALIAS_COUNT} alias expansions are allowed — write the values out`,
      line: 1,
      column: 1,
    });
    throw configInvalid(file, problems);
  }
  const located: ConfigProblem[] = [];
  const result = buildConfigSchema(catalog).safeParse(raw);
  if (!result.success) located.push(...zodProblems(result.error, raw));
  located.push(...crossCheck(raw, catalog));
  if (result.success) located.push(...typeChecks(result.data, catalog));
  located.push(...timingCheck(raw, catalog));
  if (options.checkFiles !== false) located.push(...fileChecks(raw, options.baseDir ?? process.cwd()));

  const index: PairIndex = new WeakMap();
  for (const p of located) {
    const node = nearestNode(doc.contents as Node | null, p.path, index);
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
  completeParams(result.data, catalog);
  const config = normalize(result.data, options.absPath ?? resolve(file), catalog.timingProfiles);
  const baseDir = options.baseDir ?? process.cwd();
  config.cluster.secretFile = resolveFrom(baseDir, config.cluster.secretFile);
  for (const key of ['tokenFile', 'readOnlyTokenFile'] as const) {
    const value = config.cluster.api[key];
    if (value !== undefined) config.cluster.api[key] = resolveFrom(baseDir, value);
  }
  for (const t of Object.values(config.cluster.api.tokens ?? {})) t.file = resolveFrom(baseDir, t.file);
  for (const r of config.alerts ?? []) {
    if (r.type === 'webhook' && r.secretFile !== undefined) r.secretFile = resolveFrom(baseDir, r.secretFile);
    if (r.type === 'smtp' && r.passwordFile !== undefined)
      r.passwordFile = resolveFrom(baseDir, r.passwordFile);
  }
  for (const g of config.groups) {
    const device = g.stonith?.device;
    if (device?.type === 'command' && device.passwordFile !== undefined)
      device.passwordFile = resolveFrom(baseDir, device.passwordFile);
  }
  return deepFreeze(config);
}

function zodProblems(error: z.ZodError, raw: unknown): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const issue of error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const branch = issue.code === 'invalid_union' ? elementIssues(issue, valueAt(raw, path)) : undefined;
    if (branch) {
      // A list that failed only on some elements: name those elements, not the whole union.
      for (const inner of branch)
        out.push({
          path: [...path, ...inner.path.filter((p): p is string | number => typeof p !== 'symbol')],
          message: inner.message,
        });
    } else if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: [...path, key], message: `unknown key "${key}"` });
    } else if (path.length > 0 && isMissing(raw, path)) {
      out.push({ path, message: `missing required key; ${issue.message}` });
    } else {
      out.push({ path, message: issue.message });
    }
  }
  return out;
}

/**
 * For a union given a list (a command's argv), the issues of its list branch when they are all
 * about elements; undefined otherwise (then the union's own message is reported).
 */
function elementIssues(issue: z.core.$ZodIssue, value: unknown): z.core.$ZodIssue[] | undefined {
  if (!Array.isArray(value) || issue.code !== 'invalid_union') return undefined;
  for (const branch of issue.errors) {
    if (branch.length > 0 && branch.every((e) => typeof e.path[0] === 'number')) return branch;
  }
  return undefined;
}

function valueAt(raw: unknown, path: Array<string | number>): unknown {
  let node: unknown = raw;
  for (const part of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[part];
  }
  return node;
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

/** Lets each resource type fill in defaults only known once its params are valid (ResourceSpec.complete). */
function completeParams(data: RawConfig, catalog: ConfigCatalog): void {
  for (const group of Object.values(data.groups)) {
    for (const [r, res] of Object.entries(group.resources)) {
      const complete = catalog.resources.get(res['type'] as string)?.complete;
      if (complete) group.resources[r] = complete(res as never) as typeof res;
    }
  }
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
    const file = resolveFrom(baseDir, value);
    const problem = privateFileProblem(file, what) ?? secretContentProblem(file, what);
    if (problem) out.push({ path, message: problem });
  };
  check(['cluster', 'secretFile'], cluster['secretFile'], 'cluster key');
  const api = cluster['api'] as Record<string, unknown> | undefined;
  if (api && typeof api === 'object') {
    check(['cluster', 'api', 'tokenFile'], api['tokenFile'], 'API token');
    check(['cluster', 'api', 'readOnlyTokenFile'], api['readOnlyTokenFile'], 'read-only API token');
    const named = api['tokens'];
    if (typeof named === 'object' && named !== null)
      for (const [name, t] of Object.entries(named as Record<string, { file?: unknown } | null>))
        check(['cluster', 'api', 'tokens', name, 'file'], t?.file, `API token ${name}`);
  }
  const alerts = (raw as { alerts?: unknown }).alerts;
  if (typeof alerts === 'object' && alerts !== null) {
    for (const [name, r] of Object.entries(alerts as Record<string, Record<string, unknown> | null>)) {
      if (typeof r !== 'object' || r === null) continue;
      check(['alerts', name, 'secretFile'], r['secretFile'], 'webhook secret');
      check(['alerts', name, 'passwordFile'], r['passwordFile'], 'SMTP password');
    }
  }
  const groups = (raw as { groups?: unknown }).groups;
  if (typeof groups === 'object' && groups !== null) {
    for (const [name, g] of Object.entries(groups as Record<string, { stonith?: unknown } | null>)) {
      const device = (g?.stonith as { device?: { passwordFile?: unknown } } | undefined)?.device;
      const value = device?.passwordFile;
      if (typeof value !== 'string' || value === '') continue;
      // Any length: a BMC or cloud password is what the device was given, not a key Halo made.
      const problem = privateFileProblem(resolveFrom(baseDir, value), 'fence device password');
      if (problem)
        out.push({ path: ['groups', name, 'stonith', 'device', 'passwordFile'], message: problem });
    }
  }
  return out;
}

function tooLarge(file: string, size: number): HaloError {
  const mib = (n: number) => (n / (1024 * 1024)).toFixed(1);
  return configInvalid(file, [
    {
      path: [],
      message: `the file is ${mib(size)} MiB; a configuration may be at most ${MAX_CONFIG_BYTES / (1024 * 1024)} MiB`,
    },
  ]);
}

interface WalkProblem {
  path: Array<string | number>;
  message: string;
  offset: number;
}

/**
 * One pass over the YAML tree (iterative: a deeply nested file cannot overflow the stack):
 * reports each duplicate map key with the path of its map, and turns numbers and booleans
 * inside command argument lists into the text written in the file (`08`, `1e3`, `1.50` stay
 * as written), because a command's arguments are strings.
 */
function walkDocument(root: Node | null, commandKeys: ReadonlySet<string>): WalkProblem[] {
  const out: WalkProblem[] = [];
  const stack: Array<{ node: Node; path: Array<string | number> }> = root ? [{ node: root, path: [] }] : [];
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? pair.key.value : undefined;
        const name = key === null || key === undefined ? undefined : String(key);
        if (name !== undefined) {
          const id = `${typeof key}:${name}`;
          if (seen.has(id))
            out.push({
              path,
              message: `duplicate key "${name}": each name may appear only once in a map`,
              offset: (pair.key as Node).range?.[0] ?? 0,
            });
          seen.add(id);
        }
        const value = pair.value as Node | null;
        if (!value) continue;
        if (name !== undefined && commandKeys.has(name) && isSeq(value)) argumentsAsText(value);
        stack.push({ node: value, path: [...path, name ?? '?'] });
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        if (item && typeof item === 'object') stack.push({ node: item as Node, path: [...path, i] });
      });
    }
  }
  return out;
}

function argumentsAsText(seq: Node): void {
  if (!isSeq(seq)) return;
  for (const item of seq.items) {
    if (!isScalar(item)) continue;
    if (typeof item.value === 'number' || typeof item.value === 'boolean' || typeof item.value === 'bigint') {
      item.value = item.source ?? String(item.value);
    }
  }
}

function resolveFrom(baseDir: string, file: string): string {
  return isAbsolute(file) ? file : resolve(baseDir, file);
}

/** Per map node, its pairs by key: a lookup per problem stays O(1) in a map of 40 000 keys. */
type PairIndex = WeakMap<object, Map<unknown, { key: unknown; value: unknown }>>;

function nearestNode(root: Node | null, path: Array<string | number>, index: PairIndex): Node | undefined {
  let node: Node | null | undefined = root;
  let best: Node | undefined = root ?? undefined;
  for (const part of path) {
    if (isMap(node)) {
      let pairs = index.get(node);
      if (!pairs) {
        pairs = new Map();
        for (const it of node.items) {
          const k = (it.key as { value?: unknown } | null)?.value;
          if (!pairs.has(k)) pairs.set(k, it);
        }
        index.set(node, pairs);
      }
      const pair = pairs.get(part);
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
