import { isIP } from 'node:net';
import { z } from 'zod';
import { duration, port } from '../../../config/fields.js';

const DNS_NAME =
  /^(?=.{1,253}\.?$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?$/;

const dnsName = (description: string) =>
  z
    .string({ error: 'expected a DNS name like db.example.com' })
    .regex(DNS_NAME, { error: 'expected a DNS name like db.example.com' })
    .describe(description);

const ipAddress = (what: string) =>
  z.string({ error: `expected ${what}` }).refine((v) => isIP(v) !== 0, { error: `expected ${what}` });

export const dnsParams = z.strictObject({
  name: dnsName('The name pointed at the active node (its A or AAAA record is replaced on start).'),
  zone: dnsName(
    'Zone the name belongs to (the update’s zone section); default: the name without its first label.',
  ).optional(),
  server: ipAddress('the IPv4 or IPv6 address of the authoritative DNS server').describe(
    'Address of the authoritative server (primary) that accepts dynamic updates; queried directly, never through the system resolver.',
  ),
  port: port('DNS port of the server.').default(53),
  keyFile: z
    .string()
    .min(1, { error: 'expected the path of a TSIG key file' })
    .describe(
      'TSIG key in BIND format (`tsig-keygen -a hmac-sha256 NAME`), mode 0600; the same file the server’s `key` statement holds. The secret never appears in logs or on a command line.',
    ),
  keyName: z.string().min(1).optional().describe('Which key of keyFile to use when it holds several.'),
  addresses: z
    .record(z.string(), ipAddress('an IPv4 or IPv6 address'))
    .describe('Address the name gets while each node is active ({ server1: 10.0.10.11, server2: … }).'),
  ttl: z
    .number({ error: 'expected a TTL in seconds' })
    .int({ error: 'expected a whole number of seconds' })
    .min(0, { error: 'expected a TTL from 0 to 86400 seconds' })
    .max(86_400, { error: 'expected a TTL from 0 to 86400 seconds' })
    .default(30)
    .describe('TTL of the record in seconds: how long resolvers may keep the old owner after a failover.'),
  deleteOnStop: z
    .boolean()
    .default(false)
    .describe(
      'Remove the record on stop (only while it still points here). Off: the next owner replaces it, and clients keep a (dead) answer rather than none.',
    ),
  callTimeout: duration('Time limit of one exchange with the server, resends included.').prefault('2s'),
  onServerError: z
    .enum(['warn', 'fail'])
    .default('warn')
    .describe(
      'When the server does not answer a check: warn = report running with a warning (the record is still there; another node could not update it either); fail = report failed.',
    ),
  timeout: z
    .strictObject({
      start: duration('Time limit of start (one update and one query).').prefault('10s'),
      stop: duration('Time limit of stop.').prefault('10s'),
      check: duration('Time limit of check (one query).').prefault('5s'),
    })
    .prefault({})
    .describe('Time limits enforced by the engine.'),
});
export type DnsParams = z.output<typeof dnsParams>;
