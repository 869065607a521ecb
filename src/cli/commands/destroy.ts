import { type NodeApi, probeNodes, renderPlan, runTeardown } from '../../doctor/teardown.js';
import { loadConfig } from '../../engine/config-catalog.js';
import { apiClient } from '../api-client.js';
import type { Command } from '../command.js';

export const destroyCommand: Command = {
  words: ['destroy'],
  summary:
    'Ordered teardown: stop every group (resources in reverse order), then stop the agents and delete their state.',
  options: {
    config: {
      type: 'string',
      short: 'c',
      description: 'Config file naming every node (default /etc/halo/halo.yaml).',
      valueName: 'FILE',
    },
    'token-file': {
      type: 'string',
      description: 'File with the API token (default: HALO_TOKEN, else the config tokenFile).',
      valueName: 'FILE',
    },
    yes: { type: 'boolean', description: 'Do it. Without --yes only the plan is printed (exit code 2).' },
    purge: {
      type: 'boolean',
      description: 'Also delete the config file, the cluster key and the token files.',
    },
    force: {
      type: 'boolean',
      description: 'Go on although a node is unreachable (that node is left as it is).',
    },
  },
  details: `Prints the plan first: the groups in the order they stop, each with its resources in stop
order, and the state each node deletes. Nothing changes without --yes. With --yes, each group
is stopped through the admin intent and destroy waits until every node reports it stopped;
then every agent deletes its state directory and exits. Config files stay unless --purge.
destroy refuses while a node cannot be reached, unless --force.`,
  async run(ctx) {
    const { options, stdout } = ctx;
    const file = (options['config'] as string | undefined) ?? '/etc/halo/halo.yaml';
    const config = loadConfig(file, { checkFiles: false });
    const scheme = config.cluster.api.tls ? 'https' : 'http';
    const apis = new Map<string, NodeApi>();
    for (const n of config.nodes) {
      const host = n.address.includes(':') ? `[${n.address}]` : n.address;
      apis.set(
        n.name,
        await apiClient({
          ...ctx,
          options: { ...options, config: file, api: `${scheme}://${host}:${n.apiPort}` },
        }),
      );
    }
    const apiFor = (name: string): NodeApi => apis.get(name)!;
    const opts = {
      yes: options['yes'] === true,
      purge: options['purge'] === true,
      force: options['force'] === true,
    };
    const probes = await probeNodes(config, apiFor);
    stdout(renderPlan(config, probes, opts));
    if (!opts.yes) {
      stdout('\nNothing was changed. Run again with --yes to do this.\n');
      return 2;
    }
    if (probes.some((p) => !p.reachable) && !opts.force) {
      stdout('\nRefusing: a node is unreachable (see above). Nothing was changed. Fix it, or use --force.\n');
      return 1;
    }
    stdout('\n');
    return runTeardown(config, probes, opts, { out: stdout });
  },
};
