import type { HaloConfig } from '../../config/model.js';
import { loadConfig } from '../../engine/config-catalog.js';
import type { Command } from '../command.js';

export const configValidate: Command = {
  words: ['config', 'validate'],
  summary: 'Check a configuration file and print a summary (or the normalized config with --json).',
  args: 'FILE',
  arity: [1, 1],
  options: {
    json: {
      type: 'boolean',
      description: 'Print the normalized configuration, defaults filled in, as JSON.',
    },
  },
  details:
    'Every problem is reported in one pass as FILE:LINE:COLUMN: PATH: MESSAGE; exit code 2 when any is found.',
  run({ positionals, options, stdout }) {
    const file = positionals[0]!;
    const config = loadConfig(file);
    if (options['json']) stdout(`${JSON.stringify(config, null, 2)}\n`);
    else stdout(`${summary(file, config)}\n`);
    return 0;
  },
};

export function summary(file: string, config: HaloConfig): string {
  const resources = config.groups.reduce((n, g) => n + g.resources.length, 0);
  const monitors = config.monitors.length + config.groups.reduce((n, g) => n + g.monitors.length, 0);
  const witness = config.witness ? ' + witness' : '';
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return `${file}: valid — cluster ${config.cluster.name}: ${plural(config.nodes.length, 'node')}${witness}, ${plural(config.groups.length, 'group')}, ${plural(resources, 'resource')}, ${plural(monitors, 'monitor')} (timing ${config.cluster.timing.profile}, epoch ${config.epoch.toString(16)})`;
}
