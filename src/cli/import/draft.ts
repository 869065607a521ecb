import { Document } from 'yaml';
import { NAME_RE } from '../../config/fields.js';
import { HaloError } from '../../errors.js';

/**
 * What `halo import pacemaker|keepalived` builds: a Halo config in the making, and the report
 * of everything in the input that was not converted (or was converted with a changed meaning).
 * Nothing is dropped silently: every element the importer does not map ends up as one line of
 * the report, printed to stderr and kept as comments at the top of the written file.
 */

export interface ImportNote {
  /** `not converted` lines name something the config does not contain; `note` lines a changed meaning. */
  kind: 'not converted' | 'note';
  /** Where in the input: `cib.xml:42` or `keepalived.conf:7`. */
  where: string;
  message: string;
}

export interface ClusterOptions {
  clusterName?: string | undefined;
  /** NAME → address, from --node. */
  nodes: Map<string, string>;
  witness?: string | undefined;
  secretFile?: string | undefined;
}

export interface Draft {
  clusterName: string;
  /** Node names in order of appearance; the address is the --node one, else the name itself. */
  nodes: string[];
  groups: Record<string, Record<string, unknown>>;
  notes: ImportNote[];
}

export function noteLine(n: ImportNote): string {
  return `${n.kind}: ${n.where}: ${n.message}`;
}

/** Parses the repeatable `--node NAME=ADDRESS`. */
export function nodeOptions(values: readonly string[]): Map<string, string> {
  const nodes = new Map<string, string>();
  for (const v of values) {
    const eq = v.indexOf('=');
    const name = eq > 0 ? v.slice(0, eq) : '';
    const address = eq > 0 ? v.slice(eq + 1) : '';
    if (!NAME_RE.test(name) || address === '')
      throw new HaloError(
        'HALO_E_USAGE',
        `expected --node NAME=ADDRESS (e.g. --node node1=10.0.0.1), got "${v}"`,
      );
    nodes.set(name, address);
  }
  return nodes;
}

/** A Halo name for an input id: kept when valid, else made valid (and the change noted). */
export function haloName(id: string, where: string, notes: ImportNote[]): string {
  if (NAME_RE.test(id)) return id;
  const fixed =
    id
      .replace(/[^A-Za-z0-9_.-]/g, '_')
      .replace(/^[^A-Za-z0-9]/, 'x')
      .slice(0, 63) || 'unnamed';
  notes.push({ kind: 'note', where, message: `"${id}" is not a valid Halo name; written as "${fixed}"` });
  return fixed;
}

/** 20000 → "20s", 1500 → "1500ms". */
export function haloDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** The config as YAML: the report as comments first, then cluster, nodes, witness and groups. */
export function renderConfig(draft: Draft, opts: ClusterOptions, source: string): string {
  const nodes: Record<string, { address: string }> = {};
  for (const n of draft.nodes) nodes[n] = { address: opts.nodes.get(n) ?? n };
  const config: Record<string, unknown> = {
    cluster: {
      name: opts.clusterName ?? draft.clusterName,
      secretFile: opts.secretFile ?? '/etc/halo/cluster.key',
    },
    nodes,
    ...(opts.witness ? { witness: { address: opts.witness } } : {}),
    groups: draft.groups,
  };
  const doc = new Document(config);
  const header = [
    ` Imported from ${source} by halo import.`,
    ' Check it with `halo config validate FILE`; node addresses are the node names unless given with --node.',
  ];
  if (!opts.witness && draft.nodes.length % 2 === 0)
    header.push(' Add a witness (--witness ADDRESS): an even number of nodes has no majority of its own.');
  if (draft.notes.length > 0) {
    header.push('', ' Not converted or changed (also printed by halo import):');
    for (const n of draft.notes) header.push(` ${noteLine(n)}`);
  }
  doc.commentBefore = header.join('\n');
  return doc.toString({ lineWidth: 0 });
}
