import { z } from 'zod';

export const httpMonitorParams = z.strictObject({
  url: z.url({ error: 'expected an http:// or https:// URL' }).describe('URL to GET.'),
  expectStatus: z
    .array(z.number().int().min(100).max(599))
    .min(1)
    .default([200])
    .describe('HTTP status codes meaning healthy.'),
  contains: z.string().optional().describe('Text the response body must contain.'),
  insecure: z.boolean().default(false).describe('Accept any TLS certificate (self-signed test servers).'),
});
export type HttpMonitorParams = z.output<typeof httpMonitorParams>;
