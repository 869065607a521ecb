import type { ParamProblems } from '../../../config/catalog.js';
import { closest } from '../../../util/did-you-mean.js';
import { parseAgent } from './agent-path.js';
import { type OcfParameter, ocfDuration, readMetaData } from './meta-data.js';
import type { OcfParams } from './params.js';

/** Pacemaker's default operation timeout, used when the agent advertises none. */
export const DEFAULT_OCF_TIMEOUT_MS = 20_000;

/** Values ocf-shellfuncs' ocf_is_true / ocf_is_false accept for a boolean parameter. */
const BOOLEAN_WORDS = new Set(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off', 'y', 'n']);

/**
 * Checks an `ocf` resource against its agent's meta-data, when the config is validated: the
 * agent exists under OCF_ROOT, every parameter given is one it declares, every required one is
 * given, and integer, boolean and select values have the right form. Each message names the
 * parameter and the agent.
 */
export function validateOcf(params: OcfParams): ParamProblems {
  const agent = parseAgent(params.agent);
  if (!agent) return [['agent', 'expected "ocf:PROVIDER:TYPE" with plain names (no "/", "." or "..")']];
  const md = readMetaData(agent);
  if (!md.ok) return [['agent', md.problem]];
  const declared = new Map(md.meta.parameters.map((p) => [p.name, p]));
  const problems: ParamProblems = [];
  const given = params.params ?? {};
  for (const [name, value] of Object.entries(given)) {
    const param = declared.get(name);
    if (!param) {
      const near = closest(name, declared.keys());
      const names = [...declared.keys()].join(', ') || 'none';
      problems.push([
        `params.${name}`,
        `unknown parameter "${name}" of OCF agent ${agent.spec}${near ? ` (did you mean "${near}"?)` : ''}; its parameters: ${names}`,
      ]);
      continue;
    }
    const wrong = typeProblem(param, value);
    if (wrong) problems.push([`params.${name}`, `parameter "${name}" of OCF agent ${agent.spec}: ${wrong}`]);
  }
  for (const param of md.meta.parameters) {
    if (param.required && !(param.name in given)) {
      problems.push([
        'params',
        `missing required parameter "${param.name}" of OCF agent ${agent.spec}${param.shortdesc ? ` (${param.shortdesc})` : ''}`,
      ]);
    }
  }
  return problems;
}

function typeProblem(param: OcfParameter, value: string | number | boolean): string | undefined {
  const text = String(value);
  switch (param.type) {
    case 'integer':
      return /^\s*-?\d+\s*$/.test(text) ? undefined : `expected an integer, got ${JSON.stringify(value)}`;
    case 'boolean':
      return typeof value === 'boolean' || BOOLEAN_WORDS.has(text.toLowerCase())
        ? undefined
        : `expected a boolean (true/false, yes/no, 1/0), got ${JSON.stringify(value)}`;
    case 'select':
      return param.options?.length && !param.options.includes(text)
        ? `expected one of ${param.options.join(', ')}, got ${JSON.stringify(value)}`
        : undefined;
    case 'time':
      return ocfDuration(text) === undefined
        ? `expected a time like "10s", got ${JSON.stringify(value)}`
        : undefined;
    default:
      return undefined;
  }
}

export interface OcfTimeouts {
  start: number;
  stop: number;
  check: number;
}

/**
 * The time limits of an `ocf` resource: the configured ones, else what the agent advertises
 * for start, stop and monitor in its meta-data, else 20s.
 */
export function ocfTimeouts(params: OcfParams): OcfTimeouts {
  const agent = parseAgent(params.agent);
  const md = agent ? readMetaData(agent) : undefined;
  const advertised = (action: string): number | undefined =>
    md?.ok ? md.meta.actions.find((a) => a.name === action && a.timeoutMs)?.timeoutMs : undefined;
  return {
    start: params.timeout?.start ?? advertised('start') ?? DEFAULT_OCF_TIMEOUT_MS,
    stop: params.timeout?.stop ?? advertised('stop') ?? DEFAULT_OCF_TIMEOUT_MS,
    check: params.timeout?.check ?? advertised('monitor') ?? DEFAULT_OCF_TIMEOUT_MS,
  };
}

/** The parameters with every time limit filled in (the engine reads `timeout.*` of each resource). */
export function completeOcf(params: OcfParams): OcfParams {
  return { ...params, timeout: ocfTimeouts(params) };
}
