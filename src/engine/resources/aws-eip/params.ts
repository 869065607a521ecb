import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { awsCommonFields } from '../aws/fields.js';

export const awsEipParams = z.strictObject({
  allocationId: z
    .string()
    .regex(/^eipalloc-[0-9a-zA-Z]+$/, { error: 'expected an allocation id like eipalloc-0123abcd' })
    .describe('The Elastic IP to move to the active node (AssociateAddress with AllowReassociation).'),
  privateIp: z
    .record(
      z.string(),
      z.string().refine((v) => isIPv4(v), { error: 'expected an IPv4 address of the node’s ENI' }),
    )
    .optional()
    .describe('Private IP of each node’s ENI the EIP maps to; omitted = the ENI’s primary private IP.'),
  ...awsCommonFields,
});
export type AwsEipParams = z.output<typeof awsEipParams>;
