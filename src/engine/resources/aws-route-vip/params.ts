import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { awsCommonFields, localDevice } from '../aws/fields.js';

export const awsRouteVipParams = z.strictObject({
  ip: z
    .string()
    .refine((v) => isIPv4(v), { error: 'expected an IPv4 address outside the VPC CIDR, e.g. 172.16.0.1' })
    .describe('The virtual IP; it must lie outside the VPC CIDR so route tables can point it at an ENI.'),
  routeTables: z
    .array(z.string().regex(/^rtb-[0-9a-zA-Z]+$/, { error: 'expected a route table id like rtb-0123abcd' }))
    .min(1, { error: 'expected at least one route table id' })
    .describe('Every route table that must send VIP/32 to the active node.'),
  ...awsCommonFields,
  device: localDevice
    .default('lo')
    .describe('Interface that carries the VIP locally so the node answers it.'),
  localAddress: z
    .boolean()
    .default(true)
    .describe(
      'Add VIP/32 to `device` while active (needs root). false = the routes only (the application binds 0.0.0.0, or a test must not touch the host).',
    ),
});
export type AwsRouteVipParams = z.output<typeof awsRouteVipParams>;
