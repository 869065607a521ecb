import { z } from 'zod';
import { command, duration, envMap, runAs } from '../../../config/fields.js';

export const scriptParams = z.strictObject({
  start: command('Command that starts the resource.'),
  stop: command('Command that stops the resource; must succeed when it is already stopped.'),
  check: command(
    'Command that reports the state: exit 0 = running, 7 = stopped (OCF), other = failed.',
  ).optional(),
  successCodes: z
    .array(z.number().int().min(0).max(255), { error: 'expected a list of exit codes' })
    .min(1)
    .default([0])
    .describe('Exit codes of start and stop that mean success.'),
  user: runAs.optional(),
  env: envMap.optional(),
  cwd: z.string().min(1).optional().describe('Working directory of the commands.'),
  timeout: z
    .strictObject({
      start: duration('Time limit of the start command.').prefault('1m'),
      stop: duration('Time limit of the stop command.').prefault('1m'),
      check: duration('Time limit of the check command.').prefault('20s'),
    })
    .prefault({})
    .describe('Time limits enforced by the engine; on a stop timeout the process tree is killed.'),
});

export type ScriptParams = z.output<typeof scriptParams>;
