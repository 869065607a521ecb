import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';
import { baseEnv } from '../../../util/command-env.js';
import { type AgentName, agentPath, ocfRoot } from './agent-path.js';

/**
 * An OCF agent's self-description (`AGENT meta-data`, OCF Resource Agent API §6): its
 * parameters with their types and defaults, and the actions it supports with the timeouts it
 * advertises. Read once per agent file (cached by path, size and mtime), synchronously: the
 * config validator is synchronous, and a meta-data call is a few milliseconds of shell.
 */

export type OcfParamType = 'string' | 'integer' | 'boolean' | 'select' | 'time' | 'other';

export interface OcfParameter {
  name: string;
  required: boolean;
  unique: boolean;
  type: OcfParamType;
  /** The type as the agent wrote it (for messages about `other`). */
  rawType: string;
  default?: string;
  /** For `select`: the allowed values. */
  options?: string[];
  shortdesc: string;
  longdesc: string;
  deprecated: boolean;
}

export interface OcfAction {
  name: string;
  /** Advertised timeout in ms, when given and readable. */
  timeoutMs?: number;
  intervalMs?: number;
  depth?: string;
}

export interface OcfMetaData {
  name: string;
  version: string;
  shortdesc: string;
  longdesc: string;
  parameters: OcfParameter[];
  actions: OcfAction[];
}

export type MetaDataResult =
  | { ok: true; path: string; meta: OcfMetaData }
  | { ok: false; path: string; problem: string };

/** How long `meta-data` may take (it only prints XML). */
const META_DATA_TIMEOUT_MS = 10_000;

const cache = new Map<string, { stamp: string; result: MetaDataResult }>();

/** The agent's meta-data, from the cache when the file has not changed since it was read. */
export function readMetaData(agent: AgentName, root = ocfRoot()): MetaDataResult {
  const path = agentPath(agent, root);
  let stamp: string;
  try {
    const st = statSync(path);
    if (!st.isFile()) return { ok: false, path, problem: `${path} is not a file` };
    accessSync(path, constants.X_OK);
    stamp = `${st.size}:${st.mtimeMs}:${root}`;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'not executable' : String(code);
    return {
      ok: false,
      path,
      problem: `OCF agent ${agent.spec} not found: ${path}: ${why} (OCF_ROOT=${root}; Debian ships the common agents in the package resource-agents)`,
    };
  }
  const hit = cache.get(path);
  if (hit && hit.stamp === stamp) return hit.result;
  const result = runMetaData(agent, path, root);
  cache.set(path, { stamp, result });
  return result;
}

function runMetaData(agent: AgentName, path: string, root: string): MetaDataResult {
  const run = spawnSync(path, ['meta-data'], {
    env: {
      ...baseEnv(),
      OCF_ROOT: root,
      OCF_RA_VERSION_MAJOR: '1',
      OCF_RA_VERSION_MINOR: '1',
      OCF_RESOURCE_TYPE: agent.type,
      OCF_RESOURCE_PROVIDER: agent.provider,
      OCF_RESOURCE_INSTANCE: 'meta-data',
    },
    timeout: META_DATA_TIMEOUT_MS,
    encoding: 'utf8',
    maxBuffer: 4 * 1024 * 1024,
  });
  const fail = (why: string): MetaDataResult => ({
    ok: false,
    path,
    problem: `OCF agent ${agent.spec}: "${path} meta-data" ${why}`,
  });
  if (run.error)
    return fail(`could not run (${(run.error as NodeJS.ErrnoException).code ?? run.error.message})`);
  if (run.status !== 0) {
    const tail = (run.stderr || run.stdout || '').trim().split('\n').at(-1) ?? '';
    return fail(`exited with ${run.status ?? run.signal}${tail ? `: ${tail}` : ''}`);
  }
  try {
    return { ok: true, path, meta: parseMetaData(run.stdout) };
  } catch (err) {
    return fail(`printed no usable meta-data (${(err as Error).message})`);
  }
}

const LISTS = new Set(['parameter', 'action', 'option', 'longdesc', 'shortdesc']);

/** Parses meta-data XML (exported for tests). Throws when it is not `<resource-agent>` XML. */
export function parseMetaData(xml: string): OcfMetaData {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    textNodeName: '#text',
    parseTagValue: false,
    parseAttributeValue: false,
    processEntities: true,
    isArray: (name) => LISTS.has(name),
  });
  const doc = parser.parse(xml, true) as Record<string, unknown>;
  const ra = doc['resource-agent'] as Record<string, unknown> | undefined;
  if (!ra || typeof ra !== 'object') throw new Error('no <resource-agent> element');
  const params = ((ra['parameters'] as Record<string, unknown> | undefined)?.['parameter'] ?? []) as Array<
    Record<string, unknown>
  >;
  const actions = ((ra['actions'] as Record<string, unknown> | undefined)?.['action'] ?? []) as Array<
    Record<string, unknown>
  >;
  return {
    name: str(ra['@name']),
    version: str(ra['version'] ?? ra['@version']),
    shortdesc: text(ra['shortdesc']),
    longdesc: text(ra['longdesc']),
    parameters: params.map(parseParameter).filter((p) => p.name !== ''),
    actions: actions
      .map((a) => {
        const action: OcfAction = { name: str(a['@name']) };
        const timeout = ocfDuration(str(a['@timeout']));
        const interval = ocfDuration(str(a['@interval']));
        if (timeout !== undefined) action.timeoutMs = timeout;
        if (interval !== undefined) action.intervalMs = interval;
        if (a['@depth'] !== undefined) action.depth = str(a['@depth']);
        return action;
      })
      .filter((a) => a.name !== ''),
  };
}

function parseParameter(p: Record<string, unknown>): OcfParameter {
  const content = (p['content'] ?? {}) as Record<string, unknown>;
  const rawType = str(content['@type']) || 'string';
  const type: OcfParamType = (['string', 'integer', 'boolean', 'select', 'time'] as const).includes(
    rawType as never,
  )
    ? (rawType as OcfParamType)
    : rawType === 'int'
      ? 'integer'
      : 'other';
  const param: OcfParameter = {
    name: str(p['@name']),
    required: truthy(p['@required']),
    unique: truthy(p['@unique']),
    type,
    rawType,
    shortdesc: text(p['shortdesc']),
    longdesc: text(p['longdesc']),
    deprecated: p['deprecated'] !== undefined,
  };
  if (content['@default'] !== undefined) param.default = str(content['@default']);
  const options = content['option'] as Array<Record<string, unknown>> | undefined;
  if (options) param.options = options.map((o) => str(o['@value']));
  return param;
}

function str(value: unknown): string {
  return typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '';
}

/** The English (or first) text of a `<longdesc lang="en">` list, whitespace folded. */
function text(value: unknown): string {
  const list = (Array.isArray(value) ? value : value === undefined ? [] : [value]) as unknown[];
  const pick =
    list.find(
      (v) => typeof v === 'object' && v !== null && (v as Record<string, unknown>)['@lang'] === 'en',
    ) ?? list[0];
  const raw = typeof pick === 'string' ? pick : str((pick as Record<string, unknown> | undefined)?.['#text']);
  return raw.replace(/\s+/g, ' ').trim();
}

function truthy(value: unknown): boolean {
  return value === '1' || value === 'true' || value === 'yes';
}

/**
 * An OCF/Pacemaker duration: a number with an optional unit (ms, msec, us, s, sec, m, min, h,
 * hr); a bare number is seconds (Pacemaker's crm_get_msec). Undefined when unreadable.
 */
export function ocfDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|msec|us|usec|s|sec|m|min|h|hr)?\s*$/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  const factor: Record<string, number> = {
    us: 0.001,
    usec: 0.001,
    ms: 1,
    msec: 1,
    s: 1000,
    sec: 1000,
    m: 60_000,
    min: 60_000,
    h: 3_600_000,
    hr: 3_600_000,
  };
  return Math.round(n * (factor[unit] ?? 1000));
}
