import { isIP } from 'node:net';
import { z } from 'zod';

export const ipParams = z.strictObject({
  ip: z
    .string()
    .refine((v) => isIP(v) !== 0, { error: 'expected an IPv4 or IPv6 address' })
    .describe('The floating address.'),
  prefix: z
    .number()
    .int()
    .min(1)
    .max(128)
    .optional()
    .describe('Prefix length (default 32 for IPv4, 128 for IPv6).'),
  device: z
    .string()
    .min(1, { error: 'expected an interface name such as eth0' })
    .describe('Interface to add the address to.'),
  arpCount: z
    .number()
    .int()
    .min(0)
    .max(20)
    .default(3)
    .describe('Gratuitous ARP / unsolicited NA packets sent on start.'),
});
export type IpParams = z.output<typeof ipParams>;
