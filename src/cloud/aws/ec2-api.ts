import type { Address, NetworkInterface, RouteTable } from '@aws-sdk/client-ec2';
import type { Logger } from '../../log.js';
import { DEFAULT_KEEPALIVE, type KeepaliveSettings, keepaliveHttpAgents } from '../../net/keepalive.js';
import { callWithBudget } from './ec2-call.js';

/**
 * The EC2 calls Halo makes — exactly these, so docs/cloud-aws.md can list the IAM actions —
 * each bounded by the call budget and the caller's AbortSignal. Resources depend on this
 * interface, not on the SDK, so unit tests use a small fake.
 */
export interface Ec2Api {
  describeRouteTables(ids: string[], signal: AbortSignal): Promise<RouteTable[]>;
  createRoute(table: string, cidr: string, eni: string, signal: AbortSignal): Promise<void>;
  replaceRoute(table: string, cidr: string, eni: string, signal: AbortSignal): Promise<void>;
  createTags(resources: string[], tags: Record<string, string>, signal: AbortSignal): Promise<void>;
  describeAddress(allocationId: string, signal: AbortSignal): Promise<Address | undefined>;
  associateAddress(
    allocationId: string,
    eni: string,
    privateIp: string | undefined,
    signal: AbortSignal,
  ): Promise<void>;
  describeNetworkInterface(eni: string, signal: AbortSignal): Promise<NetworkInterface | undefined>;
  assignPrivateIp(eni: string, ip: string, signal: AbortSignal): Promise<void>;
}

/**
 * The calls of the `aws` fence device (`fencing: stonith`): power the old owner's instance off
 * and watch it reach `stopped`. A separate interface, so the resources' fakes stay as they are.
 */
export interface Ec2InstanceApi {
  /** StopInstances with Force (no OS shutdown: the instance may be hung); returns the state EC2 reports. */
  forceStop(instanceId: string, signal: AbortSignal): Promise<string | undefined>;
  /** The instance's state name (pending, running, stopping, stopped…), undefined when EC2 has no such instance. */
  instanceState(instanceId: string, signal: AbortSignal): Promise<string | undefined>;
}

/** The IAM actions behind Ec2InstanceApi (docs/cloud-aws.md, docs/fencing.md). */
export const EC2_FENCING_ACTIONS = ['ec2:StopInstances', 'ec2:DescribeInstances'] as const;

/** The IAM actions behind Ec2Api, for docs and `halo doctor`. */
export const EC2_ACTIONS = [
  'ec2:DescribeRouteTables',
  'ec2:CreateRoute',
  'ec2:ReplaceRoute',
  'ec2:CreateTags',
  'ec2:DescribeAddresses',
  'ec2:AssociateAddress',
  'ec2:DescribeNetworkInterfaces',
  'ec2:AssignPrivateIpAddresses',
] as const;

export interface Ec2Settings {
  region?: string | undefined;
  endpoint?: string | undefined;
  /** Budget of one call, retries included. */
  callTimeoutMs: number;
  log?: Logger | undefined;
}

type Sdk = typeof import('@aws-sdk/client-ec2');
type Client = InstanceType<Sdk['EC2Client']>;

let sdkModule: Promise<Sdk> | undefined;
const clients = new Map<string, Client>();

/** The SDK is large; load it only when an AWS resource first calls (keeps idle agents small). */
function sdk(): Promise<Sdk> {
  sdkModule ??= import('@aws-sdk/client-ec2');
  return sdkModule;
}

/**
 * Starts loading the SDK in the background (≈2 s cold on a small VM), so the first failover
 * does not pay for it. Called when an AWS resource is configured, not by every agent.
 */
export function preloadEc2Sdk(): void {
  sdk().catch(() => {
    // Reported by the first real call.
    sdkModule = undefined;
  });
}

let keepalive: KeepaliveSettings = DEFAULT_KEEPALIVE;

/** The agent's cluster.keepalive, for the SDK's sockets (set once at agent start). */
export function setEc2Keepalive(cfg: KeepaliveSettings): void {
  keepalive = cfg;
  closeEc2Clients();
}

/** One client per region+endpoint, reused so its keep-alive connections are too. */
async function clientFor(settings: Ec2Settings): Promise<{ sdk: Sdk; client: Client }> {
  const mod = await sdk();
  const key = `${settings.region ?? ''}|${settings.endpoint ?? ''}|${settings.callTimeoutMs}`;
  let client = clients.get(key);
  if (!client) {
    client = new mod.EC2Client({
      ...(settings.region ? { region: settings.region } : {}),
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      // Retries are ours (callWithBudget): one budget covers every attempt.
      maxAttempts: 1,
      requestHandler: {
        connectionTimeout: settings.callTimeoutMs,
        requestTimeout: settings.callTimeoutMs,
        // The SDK's default agent probes idle sockets after 1 s; use the cluster's idle instead.
        ...keepaliveHttpAgents(keepalive),
      },
    });
    clients.set(key, client);
  }
  return { sdk: mod, client };
}

/** Closes every cached client (tests; agent shutdown). */
export function closeEc2Clients(): void {
  for (const client of clients.values()) client.destroy();
  clients.clear();
}

function budgetedCall(settings: Ec2Settings) {
  return async <T>(
    op: string,
    signal: AbortSignal,
    run: (s: Sdk, c: Client, abortSignal: AbortSignal) => Promise<T>,
  ): Promise<T> => {
    const { sdk: s, client } = await clientFor(settings);
    return callWithBudget(
      { op, budgetMs: settings.callTimeoutMs, signal, log: settings.log },
      (abortSignal) => run(s, client, abortSignal),
    );
  };
}

/** The real Ec2InstanceApi over @aws-sdk/client-ec2; credentials from the SDK's default chain. */
export function sdkEc2InstanceApi(settings: Ec2Settings): Ec2InstanceApi {
  const call = budgetedCall(settings);
  return {
    forceStop: (instanceId, signal) =>
      call('StopInstances', signal, async (s, c, abortSignal) => {
        const out = await c.send(new s.StopInstancesCommand({ InstanceIds: [instanceId], Force: true }), {
          abortSignal,
        });
        return out.StoppingInstances?.[0]?.CurrentState?.Name;
      }),
    instanceState: (instanceId, signal) =>
      call('DescribeInstances', signal, async (s, c, abortSignal) => {
        const out = await c.send(new s.DescribeInstancesCommand({ InstanceIds: [instanceId] }), {
          abortSignal,
        });
        return out.Reservations?.[0]?.Instances?.[0]?.State?.Name;
      }),
  };
}

/** The real Ec2Api over @aws-sdk/client-ec2; credentials come from the SDK's default chain. */
export function sdkEc2Api(settings: Ec2Settings): Ec2Api {
  const call = budgetedCall(settings);
  return {
    describeRouteTables: (ids, signal) =>
      call('DescribeRouteTables', signal, async (s, c, abortSignal) => {
        const out = await c.send(new s.DescribeRouteTablesCommand({ RouteTableIds: ids }), { abortSignal });
        return out.RouteTables ?? [];
      }),
    createRoute: (table, cidr, eni, signal) =>
      call('CreateRoute', signal, async (s, c, abortSignal) => {
        await c.send(
          new s.CreateRouteCommand({
            RouteTableId: table,
            DestinationCidrBlock: cidr,
            NetworkInterfaceId: eni,
          }),
          { abortSignal },
        );
      }),
    replaceRoute: (table, cidr, eni, signal) =>
      call('ReplaceRoute', signal, async (s, c, abortSignal) => {
        await c.send(
          new s.ReplaceRouteCommand({
            RouteTableId: table,
            DestinationCidrBlock: cidr,
            NetworkInterfaceId: eni,
          }),
          { abortSignal },
        );
      }),
    createTags: (resources, tags, signal) =>
      call('CreateTags', signal, async (s, c, abortSignal) => {
        const Tags = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
        await c.send(new s.CreateTagsCommand({ Resources: resources, Tags }), { abortSignal });
      }),
    describeAddress: (allocationId, signal) =>
      call('DescribeAddresses', signal, async (s, c, abortSignal) => {
        const out = await c.send(new s.DescribeAddressesCommand({ AllocationIds: [allocationId] }), {
          abortSignal,
        });
        return out.Addresses?.[0];
      }),
    associateAddress: (allocationId, eni, privateIp, signal) =>
      call('AssociateAddress', signal, async (s, c, abortSignal) => {
        await c.send(
          new s.AssociateAddressCommand({
            AllocationId: allocationId,
            NetworkInterfaceId: eni,
            ...(privateIp ? { PrivateIpAddress: privateIp } : {}),
            // Take the EIP from whichever ENI has it: the lease says we are the owner now.
            AllowReassociation: true,
          }),
          { abortSignal },
        );
      }),
    describeNetworkInterface: (eni, signal) =>
      call('DescribeNetworkInterfaces', signal, async (s, c, abortSignal) => {
        const out = await c.send(new s.DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni] }), {
          abortSignal,
        });
        return out.NetworkInterfaces?.[0];
      }),
    assignPrivateIp: (eni, ip, signal) =>
      call('AssignPrivateIpAddresses', signal, async (s, c, abortSignal) => {
        await c.send(
          new s.AssignPrivateIpAddressesCommand({
            NetworkInterfaceId: eni,
            PrivateIpAddresses: [ip],
            AllowReassignment: true,
          }),
          { abortSignal },
        );
      }),
  };
}
