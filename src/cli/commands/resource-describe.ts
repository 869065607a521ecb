import { parseAgent } from '../../engine/resources/ocf/agent-path.js';
import { readMetaData } from '../../engine/resources/ocf/meta-data.js';
import { HaloError } from '../../errors.js';
import type { Command } from '../command.js';

/**
 * `halo resource describe ocf:PROVIDER:TYPE`: what an OCF agent declares in its meta-data —
 * the parameters an `ocf` resource may set (required ones first), and the actions with the
 * timeouts Halo takes as defaults. Runs locally, like `config validate`: the agent must be
 * installed on this machine.
 */
export const resourceDescribeCommand: Command = {
  words: ['resource', 'describe'],
  summary: "Show an OCF agent's parameters and action timeouts, from its meta-data (for `type: ocf`).",
  args: 'ocf:PROVIDER:TYPE',
  arity: [1, 1],
  options: { json: { type: 'boolean', description: 'Print the meta-data as JSON.' } },
  details: 'Reads $OCF_ROOT/resource.d/PROVIDER/TYPE (OCF_ROOT: /usr/lib/ocf unless set) on this machine.',
  run({ positionals, options, stdout }) {
    const spec = positionals[0]!;
    const agent = parseAgent(spec);
    if (!agent)
      throw new HaloError(
        'HALO_E_USAGE',
        `expected an OCF agent like "ocf:heartbeat:IPaddr2", got "${spec}"`,
      );
    const md = readMetaData(agent);
    if (!md.ok) throw new HaloError('HALO_E_OCF_AGENT', md.problem, { agent: spec, path: md.path });
    const meta = md.meta;
    if (options['json']) {
      stdout(`${JSON.stringify({ agent: spec, path: md.path, ...meta }, null, 2)}\n`);
      return 0;
    }
    const lines = [
      `${spec}${meta.version ? ` (version ${meta.version})` : ''}: ${meta.shortdesc}`,
      `  ${md.path}`,
      '',
    ];
    const params = [...meta.parameters].sort((a, b) => Number(b.required) - Number(a.required));
    lines.push(params.length ? 'parameters (params: in the resource):' : 'no parameters');
    for (const p of params) {
      const flags = [
        p.required ? 'required' : undefined,
        p.type === 'other' ? p.rawType : p.type,
        p.options ? `one of ${p.options.join('|')}` : undefined,
        p.default !== undefined && p.default !== '' ? `default ${p.default}` : undefined,
        p.unique ? 'unique' : undefined,
        p.deprecated ? 'deprecated' : undefined,
      ].filter(Boolean);
      lines.push(`  ${p.name} (${flags.join(', ')})${p.shortdesc ? ` — ${p.shortdesc}` : ''}`);
    }
    lines.push('', 'actions (advertised timeouts are the defaults of timeout.start/stop/check):');
    for (const a of meta.actions) {
      const bits = [
        a.timeoutMs !== undefined ? `timeout ${a.timeoutMs / 1000}s` : undefined,
        a.intervalMs ? `interval ${a.intervalMs / 1000}s` : undefined,
      ].filter(Boolean);
      lines.push(`  ${a.name}${bits.length ? ` (${bits.join(', ')})` : ''}`);
    }
    if (meta.actions.some((a) => a.name === 'promote' || a.name === 'demote'))
      lines.push(
        '',
        'note: promote/demote (promotable clones) are not supported; Halo runs start, stop and monitor.',
      );
    stdout(`${lines.join('\n')}\n`);
    return 0;
  },
};
