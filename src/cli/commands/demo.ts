import { runDemo } from '../../demo/run-demo.js';
import { HaloError } from '../../errors.js';
import type { Command } from '../command.js';

export const demoCommand: Command = {
  words: ['demo'],
  summary:
    'Run a local demo cluster (2 agents + witness on 127.0.0.1) protecting an S3 server; no root needed.',
  details: `
Starts a witness and agents n1 and n2 on 127.0.0.1 with free ports, in a temporary directory.
Group "store" runs s3rver on a data directory both nodes share, plus an lb-probe resource that
a stand-in for a cloud load balancer health-checks; the S3 endpoint is the balancer's port.
Prints the API URL, token and commands to try. Ctrl-C stops every process and removes the
directory.`,
  options: {
    timing: {
      type: 'string',
      description: 'Timing profile: fast (default) or default.',
      valueName: 'PROFILE',
    },
    'no-restart': {
      type: 'boolean',
      description: 'Leave an agent down after it was killed (default: start it again after 3 s).',
    },
  },
  async run({ options, stdout, signal }) {
    const timing = (options['timing'] as string | undefined) ?? 'fast';
    if (timing !== 'fast' && timing !== 'default') {
      throw new HaloError('HALO_E_USAGE', `--timing: expected fast or default, got "${timing}"`);
    }
    return runDemo({
      timing,
      restartAfterMs: options['no-restart'] ? null : 3000,
      signal,
      out: stdout,
    });
  },
};
