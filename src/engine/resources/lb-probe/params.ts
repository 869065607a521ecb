import { z } from 'zod';
import { port } from '../../../config/fields.js';

export const lbProbeParams = z.strictObject({
  probePort: port(
    'TCP port the cloud load balancer probes; open only on the active, healthy node (WSFC ProbePort).',
  ),
  mode: z
    .enum(['tcp', 'http'])
    .default('tcp')
    .describe('tcp: accept and close; http: answer 200 when healthy, 503 otherwise.'),
  healthGate: z
    .array(z.string())
    .default([])
    .describe('Group monitors that must be passing for the probe port to be open.'),
  ip: z
    .string()
    .optional()
    .describe(
      'Frontend IP of the load balancer; put on loopback for floating-IP (direct server return) balancers.',
    ),
  host: z.string().default('0.0.0.0').describe('Address the probe listener binds.'),
});
export type LbProbeParams = z.output<typeof lbProbeParams>;
