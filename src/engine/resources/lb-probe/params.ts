import { z } from 'zod';
import { port } from '../../../config/fields.js';

export const lbProbeParams = z.strictObject({
  probePort: port(
    'TCP port the cloud load balancer probes; open only on the active, healthy node (WSFC ProbePort).',
  ),
  probePortByNode: z
    .record(z.string(), port('Probe port of this node.'))
    .optional()
    .describe(
      'Per-node probe ports overriding probePort, for several nodes on one host (`halo demo`, tests).',
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
      'Frontend IP of a floating-IP (direct server return) balancer: it must be on a local interface (e.g. lo, through an `ip` resource this one comes after), else start fails and the port stays closed.',
    ),
  host: z.string().default('0.0.0.0').describe('Address the probe listener binds.'),
});
export type LbProbeParams = z.output<typeof lbProbeParams>;
