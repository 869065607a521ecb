import { z } from 'zod';
import { duration } from '../../../config/fields.js';

/**
 * Parameter fields every AWS resource type shares (aws-route-vip, aws-eip, aws-secondary-ip).
 * Schema only: params.ts files import this without loading the SDK.
 */

export const eniId = z
  .string()
  .regex(/^eni-[0-9a-zA-Z]+$/, { error: 'expected an ENI id like eni-0123abcd' });

export const awsCommonFields = {
  eni: z
    .record(z.string(), eniId)
    .optional()
    .describe(
      'ENI of each node ({ server1: eni-…, server2: eni-… }); omitted = the primary ENI of the instance, found through instance metadata (IMDSv2).',
    ),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, { error: 'expected an AWS region like ap-northeast-1' })
    .optional()
    .describe('AWS region (default from the SDK chain: AWS_REGION, ~/.aws/config).'),
  endpoint: z
    .url()
    .optional()
    .describe('EC2 API endpoint override (a VPC endpoint, or moto_server in tests).'),
  callTimeout: duration(
    'Time limit of one EC2 API call, retries included; a check makes at most two calls in a row, so keep the monitor timeout above twice this.',
  ).prefault('2s'),
  reconcile: duration(
    'How often the owner re-reads the cloud state and puts drifted entries back (0s = only when checked).',
  ).prefault('10s'),
  onApiError: z
    .enum(['warn', 'fail'])
    .default('warn')
    .describe(
      'When the EC2 API is unreachable, slow or throttled during a check: warn = report running with a warning (no failover: the data path does not depend on the API, and another node could not take over without it either); fail = report failed (the monitor may fail the group over).',
    ),
  timeout: z
    .strictObject({
      start: duration('Time limit of start (ENI lookup, reads, writes, local address).').prefault('30s'),
      stop: duration('Time limit of stop (local state only).').prefault('10s'),
      check: duration('Time limit of check.').prefault('20s'),
    })
    .prefault({})
    .describe('Time limits enforced by the engine.'),
};

export const localDevice = z
  .string()
  .min(1, { error: 'expected an interface name such as eth0 or lo' })
  .regex(/^[^\s/]+$/, { error: 'expected an interface name such as eth0 or lo' });
