import { z } from 'zod';

export const processMonitorParams = z.strictObject({
  match: z
    .string({ error: 'expected a regular expression' })
    .min(1)
    .refine(
      (text) => {
        try {
          new RegExp(text);
          return true;
        } catch {
          return false;
        }
      },
      { error: 'expected a valid regular expression' },
    )
    .optional()
    .describe(
      'Regular expression matched against command lines (/proc/PID/cmdline). Without it, the target resource must be a process resource and its own process tree is checked.',
    ),
  minCount: z.number().int().min(1).default(1).describe('At least this many matching processes must run.'),
});
export type ProcessMonitorParams = z.output<typeof processMonitorParams>;
