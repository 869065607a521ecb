import type { ConfigCatalog } from './catalog.js';
import { COMMAND_SCHEMAS } from './fields.js';

/**
 * The names of the parameters that are commands in any resource or monitor type (`command`,
 * `start`, `readyCheck`…): in those lists the loader keeps numbers and booleans as the text
 * written in the file.
 */
export function commandFieldNames(catalog: Pick<ConfigCatalog, 'resources' | 'monitors'>): Set<string> {
  const out = new Set<string>();
  for (const specs of [catalog.resources, catalog.monitors]) {
    for (const spec of specs.values()) {
      const shape = (spec as { params: { shape: Record<string, unknown> } }).params.shape;
      for (const [key, schema] of Object.entries(shape)) if (isCommand(schema)) out.add(key);
    }
  }
  return out;
}

/** True for a `command()` schema, also when wrapped by .optional() or .default(). */
function isCommand(schema: unknown): boolean {
  let cur = schema as { _zod?: { def?: { innerType?: unknown } } } | undefined;
  for (let i = 0; i < 4 && cur; i++) {
    if (COMMAND_SCHEMAS.has(cur)) return true;
    cur = cur._zod?.def?.innerType as typeof cur;
  }
  return false;
}
