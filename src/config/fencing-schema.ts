import { z } from 'zod';
import { command, duration, name } from './fields.js';

/**
 * The `stonith` block of a group and its `finalAction`: how a new owner powers the old one off
 * before it activates anything (docs/fencing.md), and what a node does when a group's recovery
 * is exhausted. Kept apart from schema.ts, which builds the rest of the group.
 */

const instanceId = z
  .string()
  .regex(/^i-[0-9a-f]{8,17}$/, { error: 'expected an EC2 instance id like i-0123456789abcdef0' });

/** fence-agents option names: letters, digits, "_" and "-" (ip, plug, username, ssl-insecure…). */
const agentOptionName = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, {
  error: 'expected a fence-agents option name (letters, digits, "_" or "-"), e.g. ip, plug or resourceGroup',
});

/** Halo sets the action; a password in the config file would be readable by every config reader. */
const RESERVED_OPTIONS = ['action', 'password', 'passwd'];

const agentOptions = z
  .record(
    agentOptionName,
    z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v)),
    {
      error: 'expected a map of option: value',
    },
  )
  .superRefine((o, ctx) => {
    for (const [k, v] of Object.entries(o)) {
      if (RESERVED_OPTIONS.includes(k))
        ctx.addIssue({
          code: 'custom',
          path: [k],
          message: 'action is set by Halo and the password comes from passwordFile only; remove this option',
        });
      else if (/[\r\n]/.test(v))
        ctx.addIssue({
          code: 'custom',
          path: [k],
          message: 'expected a one-line value (the agent reads name=value lines)',
        });
    }
  });

const awsDevice = z
  .strictObject({
    type: z.literal('aws').describe('EC2 StopInstances with Force on the old owner’s instance.'),
    instances: z
      .record(name('Node name.'), instanceId, { error: 'expected a map of node name → instance id' })
      .describe('EC2 instance id of every node of the group ({ n1: i-…, n2: i-… }).'),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, { error: 'expected an AWS region like ap-northeast-1' })
      .optional()
      .describe('AWS region (default from the SDK chain: AWS_REGION, ~/.aws/config).'),
    endpoint: z
      .url()
      .optional()
      .describe('EC2 API endpoint override (a VPC endpoint, or moto_server in tests).'),
    callTimeout: duration('Time limit of one EC2 API call, retries included.').prefault('5s'),
    pollInterval: duration('How often the instance state is read while waiting for `stopped`.').prefault(
      '2s',
    ),
  })
  .describe('Stops the old owner’s EC2 instance (StopInstances, Force) and waits until it is stopped.');

const commandDevice = z
  .strictObject({
    type: z.literal('command').describe('A fence agent (fence_*) driven through its stdin protocol.'),
    agent: z
      .string({ error: 'expected the absolute path of a fence agent' })
      .startsWith('/', { error: 'expected an absolute path, e.g. /usr/sbin/fence_ipmilan' })
      .describe('The fence agent to run, e.g. /usr/sbin/fence_ipmilan or /usr/sbin/fence_aws.'),
    options: agentOptions
      .default({})
      .describe('name=value options sent to the agent on stdin for every node (ip, username, lanplus…).'),
    nodes: z
      .record(name('Node name.'), agentOptions, { error: 'expected a map of node name → { option: value }' })
      .describe(
        'Options per node, added to `options` when that node is fenced: its plug (instance, VM or outlet) and/or its BMC address.',
      ),
    passwordFile: z
      .string()
      .optional()
      .describe(
        'File (mode 0600) holding the device password; sent to the agent on stdin as password=…, never on argv, in the environment or in logs.',
      ),
  })
  .describe(
    'Runs a fence agent with action=off, then action=status until it reports OFF (fence-agents stdin protocol).',
  );

export const fenceDevice = z.discriminatedUnion('type', [awsDevice, commandDevice], {
  error: 'expected a fence device with type aws or command',
});

export const stonithSchema = z
  .strictObject({
    device: fenceDevice,
    timeout: duration(
      'Time limit of one fencing attempt: power-off and its confirmation. Past it the attempt counts as failed.',
    ).prefault('60s'),
    delay: z
      .record(name('Node name.'), duration('Static delay.'), {
        error: 'expected a map of node name → delay',
      })
      .default({})
      .describe(
        'Wait this long before fencing the named node (Pacemaker’s pcmk_delay_base per node): give the node that should survive a fencing race a delay, so it wins when two nodes try to fence each other.',
      ),
    randomDelay: duration(
      'Also wait a random time up to this before fencing (Pacemaker’s pcmk_delay_max, fence_azure_arm’s recommended race guard).',
    ).prefault('0s'),
    retryInterval: duration(
      'After a failed attempt the group stays down and fencing is tried again after this long (doubled after each failure, at most 10× this).',
    ).prefault('10s'),
  })
  .describe('How the new owner fences the old one before it starts the group (with fencing: stonith).');

export const finalActionSchema = z
  .union(
    [
      z.enum(['none', 'stop-groups']),
      z.strictObject({
        command: command(
          'Run this on the node where recovery ran out (e.g. a notification, or systemctl reboot). HALO_GROUP and HALO_NODE are set.',
        ),
        timeout: duration('Time limit of the command.').prefault('60s'),
      }),
    ],
    { error: 'expected none, stop-groups or { command, timeout }' },
  )
  .default('none')
  .describe(
    'When the group has failed on every node (no node left to recover it): none = it stays down and an alert is sent; stop-groups = this node also hands over every other group it runs (marked failed here), as CLUSTERPRO’s “stop cluster service”; { command } = also run a command here.',
  );
