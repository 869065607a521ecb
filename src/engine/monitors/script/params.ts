import { z } from 'zod';
import { command, envMap, runAs } from '../../../config/fields.js';

export const scriptMonitorParams = z.strictObject({
  command: command('Probe command; success when its exit code is in successCodes.'),
  successCodes: z
    .array(z.number().int().min(0).max(255))
    .min(1)
    .default([0])
    .describe('Exit codes meaning healthy.'),
  user: runAs.optional(),
  env: envMap.optional(),
  cwd: z.string().min(1).optional().describe('Working directory.'),
});
export type ScriptMonitorParams = z.output<typeof scriptMonitorParams>;
