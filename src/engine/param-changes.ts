import { stat } from 'node:fs/promises';
import type { z } from 'zod';
import type { ResourceConfig } from '../config/model.js';
import { HaloError } from '../errors.js';
import { resolveUser } from './exec/run-as.js';
import type { ParamMode } from './resources/types.js';

/**
 * Run-time parameter changes (`halo resource set`, PATCH …/params): only the changed keys
 * are validated, with the type's own schema picked down to them, because the stored params
 * are the schema's parsed output (durations already in ms) and would not parse again.
 */

export interface ParamSpec {
  params: z.ZodObject;
  /** Keys not listed are `restart`. */
  paramModes?: Partial<Record<string, ParamMode>>;
}

export function validateParamChanges(
  resource: ResourceConfig,
  spec: ParamSpec | undefined,
  changes: Record<string, unknown>,
): Record<string, unknown> {
  const where = { resource: resource.name, type: resource.type };
  if (!spec)
    throw new HaloError(
      'HALO_E_BAD_REQUEST',
      `parameters of ${resource.type} resources cannot be changed at run time`,
      where,
    );
  const keys = Object.keys(changes);
  if (keys.length === 0) throw new HaloError('HALO_E_BAD_REQUEST', 'no parameter changes given', where);
  const unknown = keys.filter((k) => !(k in spec.params.shape));
  if (unknown.length > 0) {
    throw new HaloError(
      'HALO_E_BAD_REQUEST',
      `unknown parameters for ${resource.type}: ${unknown.join(', ')}`,
      { ...where, unknown },
    );
  }
  const mask = Object.fromEntries(keys.map((k) => [k, true as const]));
  // The mask's keys were checked against the shape above.
  const parsed = spec.params.pick(mask as never).safeParse(changes);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => [i.path.join('.'), i.message]);
    const text = problems.map(([p, m]) => `${p}: ${m}`).join('; ');
    throw new HaloError('HALO_E_BAD_REQUEST', `invalid parameters: ${text}`, { ...where, problems });
  }
  const values = parsed.data as Record<string, unknown>;
  // `{ timeout: { check: '3s' } }` changes only check: the schema filled in defaults for the
  // sub-keys not given, which keep their current values instead. (A map such as `env` gets no
  // defaults, so it is replaced as given.)
  for (const key of keys) {
    const given = changes[key];
    const current = resource.params[key];
    const next = values[key];
    if (!isPlainObject(given) || !isPlainObject(current) || !isPlainObject(next)) continue;
    const filled = Object.keys(next).filter((k) => !(k in given) && k in current);
    values[key] = { ...next, ...Object.fromEntries(filled.map((k) => [k, current[k]])) };
  }
  return values;
}

/**
 * What the schema cannot know: the user exists and the working directory is a directory on
 * this node, so a bad value is refused when it is set rather than at the next start.
 */
export async function checkParamsOnHost(
  values: Record<string, unknown>,
  where: { group: string; resource: string; type: string },
): Promise<void> {
  const user = values['user'];
  if (typeof user === 'string' && user !== '') {
    try {
      await resolveUser(user);
    } catch (err) {
      throw new HaloError('HALO_E_BAD_REQUEST', `invalid parameters: user: ${(err as Error).message}`, where);
    }
  }
  const cwd = values['cwd'];
  if (typeof cwd === 'string' && cwd !== '') {
    const isDir = await stat(cwd).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDir)
      throw new HaloError(
        'HALO_E_BAD_REQUEST',
        `invalid parameters: cwd: ${cwd} is not a directory on this node`,
        where,
      );
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---- small lookups ----------------------------------------------------------------------
