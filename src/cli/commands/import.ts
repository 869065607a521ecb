import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { HaloError } from '../../errors.js';
import type { Command, CommandContext, OptionSpec } from '../command.js';
import { type Draft, nodeOptions, noteLine, renderConfig } from '../import/draft.js';
import { importKeepalived, keepalivedInputs } from '../import/keepalived.js';
import { importPacemaker } from '../import/pacemaker.js';

const options: Record<string, OptionSpec> = {
  output: {
    type: 'string',
    short: 'o',
    valueName: 'FILE',
    description: 'Write the config here (refuses to overwrite) instead of printing it.',
  },
  node: {
    type: 'string',
    multiple: true,
    valueName: 'NAME=ADDRESS',
    description:
      'Address of a node (repeatable); nodes not given use their name as address. Adds the node if the input does not name it.',
  },
  witness: { type: 'string', valueName: 'ADDRESS', description: 'Address of the witness (cluster.witness).' },
  'cluster-name': {
    type: 'string',
    valueName: 'NAME',
    description: 'cluster.name (default: from the input).',
  },
  'secret-file': {
    type: 'string',
    valueName: 'FILE',
    description: 'cluster.secretFile (default /etc/halo/cluster.key).',
  },
};

function readInput(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new HaloError(
      'HALO_E_IMPORT',
      `${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      {
        file,
      },
    );
  }
}

/** Converts the input, writes the config and prints every line of the report to stderr. */
function runImport(
  ctx: CommandContext,
  convert: (args: string[], nodes: string[]) => { draft: Draft; source: string },
): number {
  const given = nodeOptions((ctx.options['node'] as string[] | undefined) ?? []);
  const { draft, source } = convert(ctx.positionals, [...given.keys()]);
  const file = source;
  if (draft.nodes.length === 0)
    throw new HaloError('HALO_E_IMPORT', `${file}: names no node; give them with --node NAME=ADDRESS`, {
      file,
    });
  const yaml = renderConfig(
    draft,
    {
      clusterName: ctx.options['cluster-name'] as string | undefined,
      nodes: given,
      witness: ctx.options['witness'] as string | undefined,
      secretFile: ctx.options['secret-file'] as string | undefined,
    },
    source,
  );
  const out = ctx.options['output'] as string | undefined;
  if (out !== undefined) {
    if (existsSync(out))
      throw new HaloError('HALO_E_USAGE', `${out} exists; choose another --output or remove it`);
    writeFileSync(out, yaml, { mode: 0o644 });
  } else ctx.stdout(yaml);
  const skipped = draft.notes.filter((n) => n.kind === 'not converted').length;
  for (const n of draft.notes) ctx.stderr(`${noteLine(n)}\n`);
  ctx.stderr(
    `${Object.keys(draft.groups).length} group(s) converted${out ? ` into ${out}` : ''}; ${skipped} item(s) not converted${skipped ? ' (listed above)' : ''}\n`,
  );
  return 0;
}

export const importPacemakerCommand: Command = {
  words: ['import', 'pacemaker'],
  summary:
    'Convert a Pacemaker CIB (pcs cluster cib, cibadmin -Q) into a Halo config; lists what it cannot convert.',
  args: 'CIB.xml',
  arity: [1, 1],
  options,
  details:
    'primitives → resources (ocf agents stay ocf), groups → groups, INFINITY colocation with a lone primitive → one group, start order inside a group → after, location scores → node preference. Every other element is listed on stderr (and as comments in the file) as "not converted". See docs/migration.md.',
  run: (ctx) =>
    runImport(ctx, ([file], nodes) => {
      const source = basename(file!);
      return { draft: importPacemaker(readInput(file!), source, nodes), source };
    }),
};

export const importKeepalivedCommand: Command = {
  words: ['import', 'keepalived'],
  summary:
    'Convert keepalived VRRP instances into a Halo config (one keepalived.conf per node); lists what it cannot convert.',
  args: '[NODE=]keepalived.conf…',
  arity: [1, 32],
  options,
  details:
    'vrrp_instance → group, priority → node order (give every node\'s file as NODE=FILE), virtual_ipaddress → ip resources, track_script → script monitors, notify_master/notify_backup → a script resource, vrrp_sync_group → one group. Every other line is listed on stderr (and as comments in the file) as "not converted". auth_pass is never copied. See docs/migration.md.',
  run: (ctx) =>
    runImport(ctx, (args, nodes) => {
      const inputs = keepalivedInputs(args, readInput);
      return {
        draft: importKeepalived(inputs, nodes),
        source: inputs.map((i) => basename(i.file)).join(', '),
      };
    }),
};
