import { parse as parseYaml } from 'yaml';
import { HaloError } from '../../errors.js';
import { apiClient, apiOptions } from '../api-client.js';
import type { Command } from '../command.js';

function target(arg: string): string {
  const m = /^([^/]+)\/([^/]+)$/.exec(arg);
  if (!m) throw new HaloError('HALO_E_USAGE', `expected GROUP/RESOURCE, got "${arg}"`);
  return `/v1/groups/${encodeURIComponent(m[1]!)}/resources/${encodeURIComponent(m[2]!)}/params`;
}

export const resourceGetCommand: Command = {
  words: ['resource', 'get'],
  summary:
    'Show the parameters in effect where a resource runs and accepted changes pending until it next starts (the same on every node).',
  args: 'GROUP/RESOURCE',
  arity: [1, 1],
  options: { ...apiOptions, json: { type: 'boolean', description: 'Print as JSON.' } },
  async run(ctx) {
    const view = await (await apiClient(ctx)).request<{
      params: Record<string, unknown>;
      pending: Record<string, unknown>;
    }>('GET', target(ctx.positionals[0]!));
    if (ctx.options['json']) ctx.stdout(`${JSON.stringify(view, null, 2)}\n`);
    else {
      // A pending key may be new (not set in the config): show it too.
      const keys = [...new Set([...Object.keys(view.params), ...Object.keys(view.pending)])];
      for (const k of keys) {
        const now = k in view.params ? JSON.stringify(view.params[k]) : '(not set)';
        const pending =
          k in view.pending
            ? `   (pending until the resource next starts: ${JSON.stringify(view.pending[k])})`
            : '';
        ctx.stdout(`${k} = ${now}${pending}\n`);
      }
    }
    return 0;
  },
};

export const resourceSetCommand: Command = {
  words: ['resource', 'set'],
  summary:
    'Change parameters for the whole cluster (KEY=VALUE, values in YAML syntax); says which apply live and which wait for the next start.',
  args: 'GROUP/RESOURCE KEY=VALUE…',
  arity: [2, 64],
  options: { ...apiOptions, json: { type: 'boolean', description: 'Print as JSON.' } },
  async run(ctx) {
    const [res, ...pairs] = ctx.positionals;
    const changes: Record<string, unknown> = {};
    for (const pair of pairs) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new HaloError('HALO_E_USAGE', `expected KEY=VALUE, got "${pair}"`);
      changes[pair.slice(0, eq)] = parseYaml(pair.slice(eq + 1));
    }
    const result = await (await apiClient(ctx)).request<{ live: string[]; pending: string[] }>(
      'PATCH',
      target(res!),
      changes,
    );
    if (ctx.options['json']) ctx.stdout(`${JSON.stringify(result)}\n`);
    else {
      ctx.stdout('accepted by the cluster (stored by a majority, kept across restarts)\n');
      if (result.live.length) ctx.stdout(`applied now: ${result.live.join(', ')}\n`);
      if (result.pending.length) {
        ctx.stdout(
          `saved, pending until the resource restarts (on any node): ${result.pending.join(', ')}\n`,
        );
        ctx.stdout('(some changes take effect only after the resource goes offline and online again)\n');
      }
    }
    return 0;
  },
};
