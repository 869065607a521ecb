import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DescribeRouteTablesCommand, EC2Client } from '@aws-sdk/client-ec2';

/**
 * The lab's "VPC router" (aws-minio scenario), run inside its own namespace with IP forwarding
 * on: it reads one route table from the EC2 API (moto) every interval and sets its kernel
 * route for the VIP to the lab address of the node whose ENI the table names, so a client's
 * packets to the VIP go wherever the route table says, as EC2's router does. No route (or an
 * ENI it does not know) removes the kernel route: the VIP is then unreachable, as in a VPC.
 *
 *   node aws-minio-router.js ENDPOINT TABLE VIP ENI=ADDRESS...
 */

const run = promisify(execFile);
const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6;
const [endpoint, table, vip, ...pairs] = process.argv.slice(2);
if (!endpoint || !table || !vip) {
  process.stderr.write('usage: aws-minio-router.js ENDPOINT TABLE VIP ENI=ADDRESS...\n');
  process.exit(2);
}
const addressOf = new Map(pairs.map((p) => p.split('=') as [string, string]));
const client = new EC2Client({
  endpoint,
  region: process.env['AWS_REGION'] ?? 'us-east-1',
  maxAttempts: 1,
  requestHandler: { connectionTimeout: 1000, requestTimeout: 2000 },
});
const cidr = `${vip}/32`;
let current: string | undefined;
let ready = false;

async function follow(): Promise<void> {
  const out = await client.send(new DescribeRouteTablesCommand({ RouteTableIds: [table!] }));
  const route = out.RouteTables?.[0]?.Routes?.find((r) => r.DestinationCidrBlock === cidr);
  const eni = route?.NetworkInterfaceId;
  const via = eni ? addressOf.get(eni) : undefined;
  if (via !== current) {
    if (via) await run('ip', ['route', 'replace', cidr, 'via', via, 'dev', 'eth0']);
    else await run('ip', ['route', 'del', cidr]).catch(() => undefined);
    process.stdout.write(`${monoMs().toFixed(0)} ${cidr} via ${via ?? 'nothing'} (${eni ?? 'no route'})\n`);
    current = via;
  }
  if (!ready) {
    ready = true;
    process.stdout.write('following\n');
  }
}

for (;;) {
  // A slow or failed read keeps the last route, as the VPC keeps forwarding without the API.
  await follow().catch((err: Error) => process.stdout.write(`read failed: ${err.message}\n`));
  await new Promise((r) => setTimeout(r, 100));
}
