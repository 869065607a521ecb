import { Agent } from '../../agent/agent.js';
import { createLogger } from '../../log.js';
import type { Command } from '../command.js';

export const agentCommand: Command = {
  words: ['agent'],
  summary: 'Run the agent of one node in the foreground (JSON logs on stdout).',
  options: {
    config: {
      type: 'string',
      short: 'c',
      description: 'Config file (default /etc/halo/halo.yaml).',
      valueName: 'FILE',
    },
    node: { type: 'string', description: "This node's name in the config.", valueName: 'NAME' },
    'state-dir': {
      type: 'string',
      description: 'State directory (default /var/lib/halo/NODE).',
      valueName: 'DIR',
    },
  },
  async run({ options, signal, stderr }) {
    const node = options['node'] as string | undefined;
    if (!node) {
      stderr('halo agent: --node NAME is required\n');
      return 2;
    }
    const log = createLogger({ name: `halo-agent-${node}` });
    const agent = new Agent({
      configFile: (options['config'] as string | undefined) ?? '/etc/halo/halo.yaml',
      node,
      stateDir: (options['state-dir'] as string | undefined) ?? `/var/lib/halo/${node}`,
      log,
    });
    try {
      await agent.start();
    } catch (err) {
      // Exit (non-zero, via the CLI frame) rather than linger half-started: systemd then
      // restarts the unit and `systemctl status` shows this error.
      log.error({ node, err: (err as Error).message }, 'agent failed to start');
      const bounded = new Promise((r) => setTimeout(r, 3000).unref());
      await Promise.race([agent.stop().catch(() => undefined), bounded]);
      throw err;
    }
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    log.info({ node }, 'stopping: releasing groups');
    await agent.stop();
    return 0;
  },
};
