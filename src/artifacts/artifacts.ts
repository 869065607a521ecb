import { renderConfigDocs, renderJsonSchema } from '../config/artifacts.js';
import { builtinCatalog } from '../engine/config-catalog.js';
import { renderErrorDocs } from './error-docs.js';

/**
 * Files generated from the code and committed for users: the JSON Schema of the config
 * (editor completion), docs/configuration.md (from the built-in plugins' specs) and
 * docs/errors.md (from the error registry). `npm run schema` rewrites them; a test fails when
 * a committed copy is stale. Paths are relative to the repository root.
 */
export const ARTIFACTS: Readonly<Record<string, () => string>> = {
  'schema/halo.schema.json': () => renderJsonSchema(builtinCatalog),
  'docs/configuration.md': () => renderConfigDocs(builtinCatalog),
  'docs/errors.md': renderErrorDocs,
};
