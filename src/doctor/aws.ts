import type { DescribeRouteTablesCommandOutput } from '@aws-sdk/client-ec2';
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
  /** Every node's ENI of the resource (eni map), for the layout checks. */
  enis: Record<string, string>;
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
            enis: p.eni ?? {},
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

type Sdk = typeof import('@aws-sdk/client-ec2');
type Ec2 = InstanceType<Sdk['EC2Client']>;

/** IPv4 dotted quad → unsigned 32-bit number; undefined for anything else. */
function ipv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function cidrContains(cidr: string, ip: string): boolean {
  const [base, bits] = cidr.split('/');
  const a = ipv4(base ?? '');
  const b = ipv4(ip);
  const len = Number(bits);
  if (a === undefined || b === undefined || !Number.isInteger(len) || len < 0 || len > 32) return false;
  const size = 2 ** (32 - len);
  return Math.floor(a / size) === Math.floor(b / size);
}

const errorName = (err: unknown): string => (err as { name?: string }).name || (err as Error).message;

/**
 * What a route-table VIP silently depends on besides IAM, read (never written) from EC2:
 * the VIP lies outside every CIDR of the VPC (inside it, the `local` route wins and no table
 * can send it to an ENI), every listed table has VIP/32 to an ENI of the group, and every
 * node's ENI has the source/destination check off (else EC2 drops packets addressed to the
 * VIP without a trace). A read that IAM refuses is a warning: only doctor makes it.
 */
async function checkRouteVipLayout(
  sdk: Sdk,
  client: Ec2,
  t: AwsTarget,
  timeoutMs: number,
): Promise<CheckResult[]> {
  if (t.type !== 'aws-route-vip' || !t.ip) return [];
  const where = `${t.group}/${t.resource}`;
  const cidr = `${t.ip}/32`;
  const results: CheckResult[] = [];
  const owners = new Map(Object.entries(t.enis).map(([node, eni]) => [eni, node]));
  const unreadable = (id: string, title: string, action: string, err: unknown): CheckResult => ({
    id,
    title,
    status: 'warn',
    message: `could not read (${errorName(err)}): nothing confirmed`,
    fix: [`allow ${action} to this instance role for doctor (Halo itself does not need it)`],
  });

  let tables: DescribeRouteTablesCommandOutput;
  try {
    tables = await withTimeout(
      client.send(new sdk.DescribeRouteTablesCommand({ RouteTableIds: t.routeTables })),
      timeoutMs,
      'EC2',
    );
  } catch (err) {
    return [
      {
        id: `aws-routes:${where}`,
        title: `Routes for ${cidr} (${where})`,
        status: 'fail',
        message: `the route tables cannot be read (${errorName(err)}): Halo reads them at every start and check`,
        fix: [
          `check the ids in routeTables (${t.routeTables.join(', ')}) and allow ec2:DescribeRouteTables (docs/cloud-aws.md)`,
        ],
      },
    ];
  }
  for (const id of t.routeTables) {
    const base = { id: `aws-route:${where}:${id}`, title: `Route ${cidr} in ${id} (${where})` };
    const table = tables.RouteTables?.find((x) => x.RouteTableId === id);
    if (!table) {
      results.push({
        ...base,
        status: 'fail',
        message: 'no such route table',
        fix: [`fix routeTables of ${where}`],
      });
      continue;
    }
    const route = table.Routes?.find((r) => r.DestinationCidrBlock === cidr);
    if (!route)
      results.push({
        ...base,
        status: 'warn',
        message: 'no route yet: Halo creates it when the group first starts here (ec2:CreateRoute)',
      });
    else if (route.State === 'blackhole')
      results.push({
        ...base,
        status: 'fail',
        message: `the route is a blackhole (target ${route.NetworkInterfaceId ?? route.GatewayId ?? '?'} is gone)`,
        fix: [`check the eni map of ${where}; Halo replaces the route at the next start or reconcile`],
      });
    else if (route.NetworkInterfaceId && owners.has(route.NetworkInterfaceId))
      results.push({
        ...base,
        status: 'pass',
        message: `→ ${route.NetworkInterfaceId} (${owners.get(route.NetworkInterfaceId)})`,
      });
    else
      results.push({
        ...base,
        status: 'warn',
        message: `→ ${route.NetworkInterfaceId ?? route.GatewayId ?? 'another target'}, not an ENI of the group: clients of this table miss the VIP until Halo replaces it (next start or reconcile)`,
      });
  }

  const vpcIds = [...new Set((tables.RouteTables ?? []).map((x) => x.VpcId).filter((v): v is string => !!v))];
  const cidrBase = { id: `aws-vip-cidr:${where}`, title: `${t.ip} outside the VPC CIDR (${where})` };
  try {
    const vpcs = await withTimeout(
      client.send(new sdk.DescribeVpcsCommand({ VpcIds: vpcIds })),
      timeoutMs,
      'EC2',
    );
    const blocks = (vpcs.Vpcs ?? []).flatMap((v) =>
      [
        ...new Set([
          ...(v.CidrBlock ? [v.CidrBlock] : []),
          ...(v.CidrBlockAssociationSet ?? []).map((a) => a.CidrBlock).filter((c): c is string => !!c),
        ]),
      ].map((c) => ({ vpc: v.VpcId ?? '?', cidr: c })),
    );
    const inside = blocks.filter((b) => cidrContains(b.cidr, t.ip!));
    if (inside.length > 0)
      results.push({
        ...cidrBase,
        status: 'fail',
        message: `${t.ip} lies inside ${inside.map((b) => `${b.cidr} (${b.vpc})`).join(', ')}: the local route wins, no route table can send it to an ENI`,
        fix: [
          'pick a VIP outside every CIDR of the VPC (e.g. 172.16.0.1 for a 10.0.0.0/16 VPC), or use aws-secondary-ip within one subnet',
        ],
      });
    else
      results.push({
        ...cidrBase,
        status: 'pass',
        message: `outside ${blocks.map((b) => `${b.cidr} (${b.vpc})`).join(', ') || 'every CIDR'}`,
      });
  } catch (err) {
    results.push(unreadable(cidrBase.id, cidrBase.title, 'ec2:DescribeVpcs', err));
  }

  for (const [node, eni] of Object.entries(t.enis)) {
    const base = {
      id: `aws-source-dest-check:${where}:${node}`,
      title: `Source/destination check off on ${eni} (${node})`,
    };
    try {
      const out = await withTimeout(
        client.send(new sdk.DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni] })),
        timeoutMs,
        'EC2',
      );
      const ni = out.NetworkInterfaces?.[0];
      if (!ni)
        results.push({
          ...base,
          status: 'fail',
          message: 'no such network interface',
          fix: [`fix the eni map of ${where}`],
        });
      else if (ni.SourceDestCheck === false) results.push({ ...base, status: 'pass', message: 'off' });
      else
        results.push({
          ...base,
          status: 'fail',
          message: `on: EC2 drops packets to ${t.ip} at ${node} silently, the VIP does not work there`,
          fix: [
            `aws ec2 modify-network-interface-attribute --network-interface-id ${eni} --no-source-dest-check`,
          ],
        });
    } catch (err) {
      results.push(unreadable(base.id, base.title, 'ec2:DescribeNetworkInterfaces', err));
    }
  }
  return results;
}

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
      results.push(...(await checkRouteVipLayout(sdk, client, t, timeoutMs)));
    } finally {
      client.destroy();
    }
  }
  return results;
}
