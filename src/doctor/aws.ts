import type { HaloConfig, NodeConfig } from '../config/model.js';
import type { CheckResult } from './types.js';

/**
 * The cloud part of doctor, small on purpose: for every AWS resource, can the SDK's default
 * chain find credentials, and — for aws-route-vip, the write that failover depends on — would
 * IAM allow the route write on each route table? That is asked with DryRun calls: AWS answers
 * DryRunOperation when the call would have been allowed, UnauthorizedOperation when not.
 * Emulators such as moto ignore DryRun and really write, so a write is sent only to an
 * endpoint that has just honoured DryRun on a harmless read. Nothing is ever changed.
 */

interface AwsTarget {
  group: string;
  resource: string;
  type: string;
  region?: string;
  endpoint?: string;
  routeTables: string[];
  ip?: string;
  eni?: string;
}

export function awsTargets(config: HaloConfig, self: NodeConfig): AwsTarget[] {
  return config.groups
    .filter((g) => g.nodes.includes(self.name))
    .flatMap((g) =>
      g.resources
        .filter((r) => r.type.startsWith('aws-'))
        .map((r) => {
          const p = r.params as {
            region?: string;
            endpoint?: string;
            routeTables?: string[];
            ip?: string;
            eni?: Record<string, string>;
          };
          return {
            group: g.name,
            resource: r.name,
            type: r.type,
            ...(p.region ? { region: p.region } : {}),
            ...(p.endpoint ? { endpoint: p.endpoint } : {}),
            routeTables: p.routeTables ?? [],
            ...(p.ip ? { ip: p.ip } : {}),
            ...(p.eni?.[self.name] ? { eni: p.eni[self.name] } : {}),
          };
        }),
    );
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} did not answer in ${ms} ms`)), ms).unref(),
    ),
  ]);

export async function checkAws(
  config: HaloConfig,
  self: NodeConfig,
  timeoutMs = 5000,
): Promise<CheckResult[]> {
  const targets = awsTargets(config, self);
  if (targets.length === 0) return [];
  const sdk = await import('@aws-sdk/client-ec2');
  const results: CheckResult[] = [];
  const seen = new Set<string>();
  for (const t of targets) {
    const key = `${t.region ?? ''}|${t.endpoint ?? ''}`;
    const client = new sdk.EC2Client({
      ...(t.region ? { region: t.region } : {}),
      ...(t.endpoint ? { endpoint: t.endpoint } : {}),
      maxAttempts: 1,
    });
    try {
      if (!seen.has(key)) {
        seen.add(key);
        const where = `${t.region ?? 'default region'}${t.endpoint ? ` at ${t.endpoint}` : ''}`;
        const base = { id: `aws-credentials:${key}`, title: `AWS credentials (${where})` };
        try {
          const creds = await withTimeout(client.config.credentials(), timeoutMs, 'the credential chain');
          results.push({
            ...base,
            status: 'pass',
            message: `found (access key ${creds.accessKeyId.slice(0, 4)}…)`,
          });
        } catch (err) {
          results.push({
            ...base,
            status: 'fail',
            message: `the SDK's default chain finds no credentials: ${(err as Error).message}`,
            fix: [
              'attach an IAM role (instance profile) to this instance, or set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_PROFILE',
              'set the region: AWS_REGION or the resource parameter region',
            ],
          });
          continue;
        }
      }
      if (t.type !== 'aws-route-vip' || !t.ip || !t.eni) continue;
      for (const table of t.routeTables) {
        const base = {
          id: `aws-iam:${t.group}/${t.resource}:${table}`,
          title: `IAM ec2:ReplaceRoute/CreateRoute on ${table} (${t.group}/${t.resource})`,
        };
        const route = {
          DryRun: true,
          RouteTableId: table,
          DestinationCidrBlock: `${t.ip}/32`,
          NetworkInterfaceId: t.eni,
        };
        const dryRun = async (command: Parameters<typeof client.send>[0]): Promise<string> => {
          try {
            await withTimeout(client.send(command), timeoutMs, 'EC2');
            return 'NoDryRun';
          } catch (err) {
            return (err as { name?: string }).name || (err as Error).message;
          }
        };
        // ReplaceRoute needs the route to exist (after the first activation); CreateRoute
        // before. Some endpoints validate that before the DryRun check, so try both.
        // An emulator may ignore DryRun and really write: send a write only to an endpoint
        // that has just honoured DryRun on a read.
        const read = await dryRun(
          new sdk.DescribeRouteTablesCommand({ DryRun: true, RouteTableIds: [table] }) as never,
        );
        let outcome = read;
        if (read === 'DryRunOperation') {
          outcome = await dryRun(new sdk.ReplaceRouteCommand(route) as never);
          if (outcome !== 'DryRunOperation' && outcome !== 'UnauthorizedOperation')
            outcome = await dryRun(new sdk.CreateRouteCommand(route) as never);
        } else if (read === 'NoDryRun') outcome = 'NoDryRun';
        if (outcome === 'DryRunOperation')
          results.push({ ...base, status: 'pass', message: 'allowed (DryRun)' });
        else if (outcome === 'UnauthorizedOperation')
          results.push({
            ...base,
            status: 'fail',
            message: 'IAM denies reading or writing this route table: failover cannot move the VIP',
            fix: [
              'allow ec2:ReplaceRoute, ec2:CreateRoute, ec2:DescribeRouteTables, ec2:CreateTags to this instance role (docs/cloud-aws.md)',
            ],
          });
        else if (outcome === 'NoDryRun')
          results.push({
            ...base,
            status: 'warn',
            message: 'the endpoint ignored DryRun: nothing confirmed',
          });
        else results.push({ ...base, status: 'warn', message: `could not verify: ${outcome}` });
      }
    } finally {
      client.destroy();
    }
  }
  return results;
}
