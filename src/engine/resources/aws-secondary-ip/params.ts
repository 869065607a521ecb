import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { awsCommonFields, localDevice } from '../aws/fields.js';

export const awsSecondaryIpParams = z.strictObject({
  ip: z
    .string()
    .refine((v) => isIPv4(v), { error: 'expected an IPv4 address inside the subnet of the nodes’ ENIs' })
    .describe(
      'The secondary private IP to move to the active node’s ENI (AssignPrivateIpAddresses with AllowReassignment); both nodes must be in the same subnet.',
    ),
  ...awsCommonFields,
  device: localDevice.default('eth0').describe('Interface that carries the address locally.'),
  prefix: z
    .number()
    .int()
    .min(1)
    .max(32)
    .default(32)
    .describe('Prefix length of the local address (32 = no extra on-link route).'),
  localAddress: z
    .boolean()
    .default(true)
    .describe('Add the address to `device` while active (needs root); false = the ENI assignment only.'),
});
export type AwsSecondaryIpParams = z.output<typeof awsSecondaryIpParams>;
