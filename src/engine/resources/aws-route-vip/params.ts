import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { duration } from '../../../config/fields.js';

export const awsRouteVipParams = z.strictObject({
  ip: z
    .string()
    .refine((v) => isIPv4(v), { error: 'expected an IPv4 address outside the VPC CIDR, e.g. 172.16.0.1' })
    .describe('The virtual IP; it must lie outside the VPC CIDR so route tables can point it at an ENI.'),
  routeTables: z
    .array(z.string().regex(/^rtb-[0-9a-zA-Z]+$/, { error: 'expected a route table id like rtb-0123abcd' }))
    .min(1, { error: 'expected at least one route table id' })
    .describe('Every route table that must send VIP/32 to the active node.'),
  eni: z
    .record(
      z.string(),
      z.string().regex(/^eni-[0-9a-zA-Z]+$/, { error: 'expected an ENI id like eni-0123abcd' }),
    )
    .optional()
    .describe('ENI of each node; omitted = found through instance metadata (IMDSv2).'),
  region: z.string().optional().describe('AWS region (default from the SDK chain).'),
  endpoint: z.url().optional().describe('EC2 API endpoint override (tests use moto_server).'),
  device: z.string().default('lo').describe('Interface that carries the VIP locally so the node answers it.'),
  callTimeout: duration('Time limit of one EC2 API call.').prefault('5s'),
  reconcile: duration('How often the owner re-reads the routes and puts drifted ones back.').prefault('10s'),
});
export type AwsRouteVipParams = z.output<typeof awsRouteVipParams>;
