import { type ChildProcess, spawn } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import * as ec2 from '@aws-sdk/client-ec2';
import { freePort } from './ports-and-processes.js';

/**
 * moto_server (python, an EC2 API emulator) on a free loopback port for AWS tests, a VPC
 * laid out like a small two-zone deployment, and a switchable TCP proxy in front of it to make the API
 * unreachable or black-holed. Everything is stopped when the caller's `after` runs.
 */

export const MOTO_REGION = 'us-east-1';

/** Fake credentials for the SDK's default chain; agents inherit them through process.env. */
export function useFakeAwsEnv(): void {
  process.env['AWS_ACCESS_KEY_ID'] = 'test';
  process.env['AWS_SECRET_ACCESS_KEY'] = 'test';
  process.env['AWS_REGION'] = MOTO_REGION;
  // Never wait on 169.254.169.254 for credentials or region.
  process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
  // The SDK prints a support notice for Node 20 on stderr; it is noise in agent logs.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
}

interface After {
  after(fn: () => unknown): void;
}

export interface Moto {
  endpoint: string;
  client: ec2.EC2Client;
  stop(): Promise<void>;
}

export async function startMoto(t: After): Promise<Moto> {
  useFakeAwsEnv();
  const port = await freePort();
  // Own process group, so stop() ends the pyenv shim and python together, and nothing else.
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new ec2.EC2Client({
    endpoint,
    region: MOTO_REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    // A wedged emulator must fail the test, not hang it.
    requestHandler: { connectionTimeout: 5000, requestTimeout: 15_000 },
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    client.destroy();
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      const exited = new Promise((r) => child.once('exit', r));
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      await exited;
    }
  };
  t.after(stop);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited: ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/`);
      await res.text();
      if (res.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`moto_server did not start within 30s: ${stderr}`);
    }
    await sleep(100);
  }
  return { endpoint, client, stop };
}

/** A VPC like a small two-zone deployment: 10.0.0.0/16, a subnet per zone, three route tables, one ENI per node. */
export interface AwsLab {
  vpcId: string;
  subnets: string[];
  routeTables: string[];
  enis: Record<string, string>;
}

export async function createLab(moto: Moto, nodes: string[]): Promise<AwsLab> {
  const c = moto.client;
  const vpc = (await c.send(new ec2.CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!;
  const vpcId = vpc.VpcId!;
  const subnets: string[] = [];
  for (const [i, cidr] of ['10.0.10.0/24', '10.0.20.0/24'].entries()) {
    const subnet = (
      await c.send(
        new ec2.CreateSubnetCommand({
          VpcId: vpcId,
          CidrBlock: cidr,
          AvailabilityZone: `${MOTO_REGION}${i === 0 ? 'a' : 'c'}`,
        }),
      )
    ).Subnet!;
    subnets.push(subnet.SubnetId!);
  }
  const main = await c.send(
    new ec2.DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
  );
  const routeTables = [main.RouteTables![0]!.RouteTableId!];
  for (let i = 0; i < 2; i++) {
    routeTables.push(
      (await c.send(new ec2.CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!.RouteTableId!,
    );
  }
  const enis: Record<string, string> = {};
  for (const [i, node] of nodes.entries()) {
    const ni = (
      await c.send(
        new ec2.CreateNetworkInterfaceCommand({ SubnetId: subnets[i % subnets.length]!, Description: node }),
      )
    ).NetworkInterface!;
    // Routing a VIP that is not the ENI's own address to it needs the source/dest check off.
    await c.send(
      new ec2.ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: ni.NetworkInterfaceId!,
        SourceDestCheck: { Value: false },
      }),
    );
    enis[node] = ni.NetworkInterfaceId!;
  }
  return { vpcId, subnets, routeTables, enis };
}

/** Where `cidr` points in each table (ENI id, other target, or undefined when absent). */
export async function routesOf(
  moto: Moto,
  tables: string[],
  cidr: string,
): Promise<Record<string, string | undefined>> {
  const out = await moto.client.send(new ec2.DescribeRouteTablesCommand({ RouteTableIds: tables }));
  const result: Record<string, string | undefined> = {};
  for (const id of tables) {
    const table = out.RouteTables?.find((t) => t.RouteTableId === id);
    const route = table?.Routes?.find((r) => r.DestinationCidrBlock === cidr);
    result[id] = route ? (route.NetworkInterfaceId ?? route.GatewayId ?? 'other') : undefined;
  }
  return result;
}

export type ProxyMode = 'pass' | 'blackhole' | 'down';

/**
 * A TCP proxy in front of the API: `pass` forwards, `blackhole` accepts and never answers
 * (a hung API or a dropped path), `down` resets every connection (API unreachable).
 * Switching away from `pass` also cuts connections already open, so keep-alive sockets
 * cannot slip past.
 */
export class ApiProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private mode: ProxyMode = 'pass';
  url = '';

  constructor(private readonly upstreamPort: number) {}

  static async start(t: After, upstream: string): Promise<ApiProxy> {
    const proxy = new ApiProxy(Number(new URL(upstream).port));
    t.after(() => proxy.stop());
    await proxy.listen();
    return proxy;
  }

  private async listen(): Promise<void> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => s.destroy());
  }

  private accept(client: Socket): void {
    this.track(client);
    if (this.mode === 'down') {
      client.resetAndDestroy();
      return;
    }
    if (this.mode === 'blackhole') return;
    const upstream = connect(this.upstreamPort, '127.0.0.1');
    this.track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  setMode(mode: ProxyMode): void {
    this.mode = mode;
    if (mode !== 'pass') for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
