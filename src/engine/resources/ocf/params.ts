import { z } from 'zod';
import { duration } from '../../../config/fields.js';
import { AGENT_PATTERN } from './agent-path.js';

export const ocfParams = z.strictObject({
  agent: z
    .string({ error: 'expected an OCF agent like "ocf:heartbeat:IPaddr2"' })
    .regex(AGENT_PATTERN, { error: 'expected "ocf:PROVIDER:TYPE", e.g. "ocf:heartbeat:IPaddr2"' })
    .describe(
      'The OCF resource agent, "ocf:PROVIDER:TYPE": the program $OCF_ROOT/resource.d/PROVIDER/TYPE (OCF_ROOT: /usr/lib/ocf unless the agent\'s environment sets it).',
    ),
  params: z
    .record(
      z.string(),
      z.union([z.string(), z.number(), z.boolean()], {
        error: 'expected a string, number or boolean (passed to the agent as text)',
      }),
    )
    .default({})
    .describe(
      "The agent's parameters, passed as OCF_RESKEY_<name>; checked against the agent's meta-data (names, required ones, integer and boolean types).",
    ),
  timeout: z
    .strictObject({
      start: duration('Time limit of start (and of validate-all before it).').optional(),
      stop: duration('Time limit of stop.').optional(),
      check: duration('Time limit of monitor.').optional(),
    })
    .optional()
    .describe(
      "Time limits enforced by the engine; each one not given is the timeout the agent advertises for that action in its meta-data, else 20s (Pacemaker's default).",
    ),
});

export type OcfParams = z.output<typeof ocfParams>;
