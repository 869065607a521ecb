import { existsSync, readFileSync } from 'node:fs';
import { renderReport, runDoctor } from '../../doctor/run-doctor.js';
import { loadConfig } from '../../engine/config-catalog.js';
import type { Command } from '../command.js';

export const doctorCommand: Command = {
  words: ['doctor'],
  summary:
    'Check this node against the config: keepalive sysctls, clock, key files, state dir, ports, peers, programs, cloud.',
  options: {
    config: {
      type: 'string',
      short: 'c',
      description: 'Config file (default /etc/halo/halo.yaml).',
      valueName: 'FILE',
    },
    node: {
      type: 'string',
      description: "This node's name (default: the node whose address is on this machine).",
      valueName: 'NAME',
    },
    'token-file': {
      type: 'string',
      description:
        'API token, to read the running agent’s view of its peers (default: HALO_TOKEN, else the config tokenFile).',
      valueName: 'FILE',
    },
    'state-dir': {
      type: 'string',
      description:
        "The agent's state directory, checked for writes and free space (default /var/lib/halo/NODE).",
      valueName: 'DIR',
    },
    json: { type: 'boolean', description: 'Print the report as JSON.' },
  },
  details: `Each check prints PASS, WARN or FAIL; every WARN and FAIL comes with the fix.
Exit code 0 when nothing FAILs, 1 otherwise (warnings do not change the exit code).
Run it on every node, before the first start and after any change to the machine.
Sysctls are read in the network namespace doctor runs in (containers have their own).`,
  async run({ options, env, stdout }) {
    const file = (options['config'] as string | undefined) ?? '/etc/halo/halo.yaml';
    // Key and token files are checks of their own: report them, do not refuse to load.
    const config = loadConfig(file, { checkFiles: false });
    const report = await runDoctor({
      config,
      node: options['node'] as string | undefined,
      token: token(options['token-file'] as string | undefined, env, config.cluster.api.tokenFile),
      stateDir: options['state-dir'] as string | undefined,
    });
    stdout(options['json'] ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
    return report.summary.fail > 0 ? 1 : 0;
  },
};

function token(file: string | undefined, env: NodeJS.ProcessEnv, configured: string | undefined) {
  try {
    if (file) return readFileSync(file, 'utf8').trim();
    if (env['HALO_TOKEN']) return env['HALO_TOKEN'].trim();
    if (configured && existsSync(configured)) return readFileSync(configured, 'utf8').trim();
  } catch {
    // Unreadable: the file check reports it.
  }
  return undefined;
}
