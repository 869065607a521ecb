import type { ReloadResult } from '../../agent/config-store.js';
import { loadConfig } from '../../engine/config-catalog.js';
import type { ReloadReport } from '../../engine/engine.js';
import { isHaloError } from '../../errors.js';
import type { ApiClient } from '../api-client.js';
import type { Command } from '../command.js';
import { clientFor } from '../node-clients.js';

export type ApplyMode = 'restart' | 'next-start';

export interface ApplyOutcome {
  node: string;
  outcome: 'applied' | 'unchanged' | 'failed' | 'unreachable';
  report?: (ReloadReport & { alerts: boolean }) | null;
  error?: { code: string; message: string };
}

export const configApply: Command = {
  words: ['config', 'apply'],
  summary: 'Apply the stored config to the running agents, node by node, without a restart.',
  options: {
    config: {
      type: 'string',
      short: 'c',
      description: 'The config file of the cluster: its nodes are asked (default: /etc/halo/halo.yaml).',
      valueName: 'FILE',
    },
    'token-file': {
      type: 'string',
      description: 'File with the API token (default: HALO_TOKEN, else the tokenFile of the config).',
      valueName: 'FILE',
    },
    'on-next-start': {
      type: 'boolean',
      description: 'Leave parameters read at start pending until the resource next starts (no restart now).',
    },
    json: { type: 'boolean', description: 'Print the result per node as JSON.' },
  },
  details: `Each agent reads its config file again (as \`halo config push\` left it) and takes the
difference without a restart when it keeps the epoch: resource parameters, monitors, alert
receivers, a group's probeInterval, failureTimeout and finalAction. Groups and monitors the change
does not touch keep running, with their counters. Live parameters apply at once; a parameter read
at start restarts its resource (one at a time), or with --on-next-start waits for its next start.
A change of the cluster, the nodes, the witness, the groups or their resources (added, removed,
type, order) needs the rolling restart \`halo config push\` prints: then nothing is applied and
the exit code is 1. Nodes are asked one after the other.`,
  async run(ctx) {
    const file = (ctx.options['config'] as string | undefined) ?? '/etc/halo/halo.yaml';
    const config = loadConfig(file, { checkFiles: false });
    const clients = await Promise.all(
      config.nodes.map(async (n) => ({
        node: n.name,
        api: await clientFor(ctx, config, config, n.name, file),
      })),
    );
    const mode: ApplyMode = ctx.options['on-next-start'] === true ? 'next-start' : 'restart';
    const results = await applyEverywhere(clients, mode);
    if (ctx.options['json']) ctx.stdout(`${JSON.stringify({ mode, nodes: results }, null, 2)}\n`);
    else ctx.stdout(describeApply(results));
    return results.every((r) => r.outcome === 'applied' || r.outcome === 'unchanged') ? 0 : 1;
  },
};

/** One node after the other, so a restart a change needs never runs on two nodes at once. */
export async function applyEverywhere(
  clients: Array<{ node: string; api: ApiClient }>,
  mode: ApplyMode,
): Promise<ApplyOutcome[]> {
  const out: ApplyOutcome[] = [];
  for (const { node, api } of clients) {
    try {
      const r = await api.request<ReloadResult<ReloadReport & { alerts: boolean }>>(
        'POST',
        '/v1/config/apply',
        {
          mode,
        },
      );
      out.push({ node, outcome: r.changed ? 'applied' : 'unchanged', report: r.report });
    } catch (err) {
      const e = isHaloError(err)
        ? { code: err.code, message: err.message }
        : { code: 'HALO_E_INTERNAL', message: String(err) };
      out.push({ node, outcome: e.code === 'HALO_E_AGENT_UNREACHABLE' ? 'unreachable' : 'failed', error: e });
    }
  }
  return out;
}

export function describeApply(results: ApplyOutcome[]): string {
  const lines: string[] = [];
  for (const r of results) {
    if (r.outcome === 'unchanged') lines.push(`  ${r.node}: already runs this config`);
    else if (r.outcome !== 'applied')
      lines.push(`  ${r.node}: ${r.outcome}: ${r.error?.code}: ${r.error?.message}`);
    else {
      lines.push(`  ${r.node}: applied`);
      const rep = r.report;
      for (const x of rep?.resources ?? []) {
        const parts = [
          x.applied.length > 0 ? `applied ${x.applied.join(', ')}` : '',
          x.restart.length > 0
            ? `${rep!.restarting.includes(`${x.group}/${x.resource}`) ? 'restarting for' : 'pending until its next start:'} ${x.restart.join(', ')}`
            : '',
          x.overridden.length > 0
            ? `kept the value set with \`resource set\` for ${x.overridden.join(', ')}`
            : '',
        ].filter(Boolean);
        lines.push(`    ${x.group}/${x.resource}: ${parts.join('; ')}`);
      }
      const m = rep?.monitors;
      if (m && m.added.length + m.changed.length + m.removed.length > 0)
        lines.push(
          `    monitors: ${[
            m.added.length ? `added ${m.added.join(', ')}` : '',
            m.changed.length ? `restarted with new settings ${m.changed.join(', ')}` : '',
            m.removed.length ? `removed ${m.removed.join(', ')}` : '',
          ]
            .filter(Boolean)
            .join('; ')}`,
        );
      if (rep?.alerts) lines.push('    alert receivers replaced');
    }
  }
  return `${lines.join('\n')}\n`;
}
