import { z } from 'zod';
import { command, duration, envMap, runAs } from '../../../config/fields.js';

export const processParams = z.strictObject({
  command: command('The long-running program; supervised by the agent, no pidfile.'),
  user: runAs.optional(),
  env: envMap.optional(),
  cwd: z.string().min(1).optional().describe('Working directory.'),
  stopSignal: z
    .enum(['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGKILL'], {
      error: 'expected a signal name such as SIGTERM',
    })
    .default('SIGTERM')
    .describe('Signal sent to the process tree on stop; SIGKILL follows when the stop timeout runs out.'),
  startGrace: duration(
    'The program counts as started once it has run this long (without readyCheck).',
  ).prefault('1s'),
  readyCheck: command('Command that exits 0 once the program is ready (replaces startGrace).').optional(),
  timeout: z
    .strictObject({
      start: duration('Time limit for the program to become ready.').prefault('1m'),
      stop: duration('Time limit for the process tree to exit after stopSignal.').prefault('30s'),
    })
    .prefault({})
    .describe('Time limits enforced by the engine.'),
});

export type ProcessParams = z.output<typeof processParams>;
