import { z } from 'zod';
import type { ConfigCatalog } from './catalog.js';
import { buildConfigSchema } from './schema.js';

/**
 * Files generated from the config schema and committed for users: the JSON Schema (editor
 * completion) and docs/configuration.md. `npm run schema` rewrites them (src/artifacts); a
 * test fails when the committed copies are stale.
 */

type Specs = Pick<ConfigCatalog, 'resources' | 'monitors'>;

type Json = Record<string, unknown>;

export function renderJsonSchema(catalog: Specs): string {
  const schema = z.toJSONSchema(buildConfigSchema(catalog), { io: 'input', unrepresentable: 'any' }) as Json;
  schema['$id'] = 'https://halo.invalid/schema/halo.schema.json';
  schema['title'] = 'Halo configuration';
  return `${JSON.stringify(schema, null, 2)}\n`;
}

function inputSchema(type: z.ZodType): Json {
  return z.toJSONSchema(type, { io: 'input', unrepresentable: 'any' }) as Json;
}

function typeName(s: Json): string {
  if (Array.isArray(s['enum'])) return (s['enum'] as unknown[]).map((v) => `\`${String(v)}\``).join(' \\| ');
  if (s['const'] !== undefined) return `\`${String(s['const'])}\``;
  const alts = (s['anyOf'] ?? s['oneOf']) as Json[] | undefined;
  if (alts) return alts.map(typeName).join(' \\| ');
  if (s['type'] === 'array') return `list of ${typeName((s['items'] as Json) ?? {})}`;
  if (
    s['type'] === 'object' &&
    s['additionalProperties'] &&
    typeof s['additionalProperties'] === 'object' &&
    !s['properties']
  ) {
    return `map of ${typeName(s['additionalProperties'] as Json)}`;
  }
  if (s['type'] === 'string' && typeof s['pattern'] === 'string' && s['pattern'].includes('ms|s|m|h'))
    return 'duration';
  if (Array.isArray(s['type'])) return (s['type'] as string[]).join(' or ');
  return String(s['type'] ?? 'any');
}

function rows(schema: Json, prefix: string, out: string[], depth = 0): void {
  const props = (schema['properties'] ?? {}) as Record<string, Json>;
  const required = new Set((schema['required'] as string[] | undefined) ?? []);
  for (const [key, prop] of Object.entries(props)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const dflt =
      prop['default'] !== undefined
        ? `\`${JSON.stringify(prop['default'])}\``
        : required.has(key)
          ? '**required**'
          : '';
    const desc = String(prop['description'] ?? '').replaceAll('|', '\\|');
    out.push(`| \`${path}\` | ${typeName(prop)} | ${dflt} | ${desc} |`);
    if (depth < 3 && prop['type'] === 'object' && prop['properties']) rows(prop, path, out, depth + 1);
    const alts = (prop['anyOf'] ?? prop['oneOf']) as Json[] | undefined;
    for (const alt of alts ?? [])
      if (alt['type'] === 'object' && alt['properties'] && depth < 3) rows(alt, path, out, depth + 1);
  }
}

function table(schema: Json, prefix: string): string {
  const out = ['| key | type | default | meaning |', '|---|---|---|---|'];
  rows(schema, prefix, out);
  return out.join('\n');
}

export function renderConfigDocs(catalog: Specs): string {
  const root = inputSchema(buildConfigSchema(catalog));
  const props = root['properties'] as Record<string, Json>;
  const section = (title: string, body: string) => `## ${title}\n\n${body}\n`;
  const parts = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run schema`; a test fails when this file is stale. Do not edit. -->',
    '',
    'One YAML file, identical on every node (`/etc/halo/halo.yaml` by default, `-c FILE` to override).',
    'Every key is validated and unknown keys are errors; `halo config validate FILE` reports all problems in one pass,',
    'each with its line and path. Durations are strings with a unit: `500ms`, `3s`, `2m`, `1h`.',
    'Relative file paths are resolved from the directory of the config file.',
    'A file may be at most 4 MiB, YAML aliases are expanded at most 100 times and duplicate keys are errors;',
    'numbers and booleans in a command list are arguments as written (`[python3, -m, http.server, 8080]`).',
    'Commands run with a clean environment, not the agent\'s (docs/operations.md, "What resource commands run with").',
    'The JSON Schema for editors is [schema/halo.schema.json](../schema/halo.schema.json).',
    '',
    section('cluster', table(props['cluster'] ?? {}, 'cluster')),
    section('nodes.NAME', table((props['nodes']?.['additionalProperties'] as Json) ?? {}, 'nodes.NAME')),
    section('witness', table(props['witness'] ?? {}, 'witness')),
    section('groups.NAME', table(groupSchema(props), 'groups.NAME')),
    '## Resources (`groups.NAME.resources.RES`)',
    '',
    'Every resource has `type` and optional `after` (names of resources of the same group started first). The other keys depend on the type.',
    '',
    ...[...catalog.resources].map(
      ([type, spec]) => `### \`${type}\`\n\n${spec.description}\n\n${table(inputSchema(spec.params), '')}\n`,
    ),
    '## Monitors (`groups.NAME.monitors.MON` and node-level `monitors.MON`)',
    '',
    'Group monitors run only while the group is active on this node (and, with `target`, while that resource runs); node-level monitors run on every node all the time.',
    '',
    table(monitorCommonSchema(props), ''),
    '',
    '`onFailure`: `failover`, `ineligible` (node-level: the node may not host groups while it fails), `alert`, `none`, or `{ restart: N, then: ACTION, restartWindow: DURATION }` (restartWindow: count only the restarts of that last period). Defaults: group monitors `failover`, node-level monitors `ineligible`. A monitor acts after `retries` + 1 consecutive failures.',
    '',
    ...[...catalog.monitors].map(
      ([type, spec]) =>
        `### \`${type}\` monitor\n\n${spec.description}\n\n${table(inputSchema(spec.params), '')}\n`,
    ),
    '## alerts',
    '',
    'Alert receivers by name (`alerts.NAME`); each has a `type` and the keys of that type. What alerts, the script environment, the webhook JSON and the SNMP MIB are in [alerts.md](alerts.md).',
    '',
    ...alertTypes(props).map(
      (alt) =>
        `### \`${String((alt['properties'] as Record<string, Json>)['type']?.['const'] ?? '')}\` receiver\n\n${String(alt['description'] ?? '')}\n\n${table(alt, 'alerts.NAME')}\n`,
    ),
  ];
  return `${parts
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

function alertTypes(props: Record<string, Json>): Json[] {
  const receiver = props['alerts']?.['additionalProperties'] as Json | undefined;
  return ((receiver?.['oneOf'] ?? receiver?.['anyOf']) as Json[] | undefined) ?? [];
}

function groupSchema(props: Record<string, Json>): Json {
  const group = (props['groups']?.['additionalProperties'] as Json) ?? {};
  const groupProps = { ...((group['properties'] as Record<string, Json>) ?? {}) };
  for (const key of ['resources', 'monitors']) {
    if (groupProps[key])
      groupProps[key] = { type: 'object', description: (groupProps[key] as Json)['description'] };
  }
  return { ...group, properties: groupProps };
}

function monitorCommonSchema(props: Record<string, Json>): Json {
  const monitors = props['monitors']?.['additionalProperties'] as Json | undefined;
  const first = ((monitors?.['oneOf'] ?? monitors?.['anyOf']) as Json[] | undefined)?.[0] ?? {};
  const common = ['type', 'interval', 'timeout', 'retries', 'startWait', 'target', 'onFailure'];
  const firstProps = (first['properties'] as Record<string, Json>) ?? {};
  const picked = Object.fromEntries(common.filter((k) => firstProps[k]).map((k) => [k, firstProps[k]!]));
  if (picked['type']) picked['type'] = { type: 'string', description: 'Monitor type (see below).' };
  return { properties: picked, required: ['type'] };
}
