import type { RouteTable } from '@aws-sdk/client-ec2';
import type { Ec2Api } from '../../../src/cloud/aws/ec2-api.js';
import { Ec2Error } from '../../../src/cloud/aws/ec2-error.js';

/**
 * An in-memory EC2 with just route tables, for unit tests of the AWS resources that need
 * failures moto cannot produce (timeouts, throttling) or exact call sequences. `fail` makes
 * every call throw the given error; `calls` records what was called, in order.
 *
 * Its rejections are EC2's: fake-ec2-parity.test.ts drives the same calls against moto and
 * this fake and compares the errors. One differs on purpose: CreateRoute over an existing
 * route is RouteAlreadyExists on EC2, while moto silently accepts it.
 */
export class FakeEc2 implements Ec2Api {
  readonly tables = new Map<string, Map<string, string>>();
  readonly tags = new Map<string, Record<string, string>>();
  readonly calls: string[] = [];
  fail: Error | null = null;

  constructor(tableIds: string[]) {
    for (const id of tableIds) this.tables.set(id, new Map());
  }

  private enter(op: string): void {
    this.calls.push(op);
    if (this.fail) throw this.fail;
  }

  private table(op: string, id: string): Map<string, string> {
    const t = this.tables.get(id);
    if (!t) throw rejected(op, 'InvalidRouteTableID.NotFound', `The routeTable ID '${id}' does not exist`);
    return t;
  }

  async describeRouteTables(ids: string[]): Promise<RouteTable[]> {
    this.enter('DescribeRouteTables');
    return ids.map((id) => ({
      RouteTableId: id,
      Routes: [...this.table('DescribeRouteTables', id)].map(([cidr, eni]) => ({
        DestinationCidrBlock: cidr,
        NetworkInterfaceId: eni,
        State: 'active' as const,
      })),
    }));
  }

  async createRoute(table: string, cidr: string, eni: string): Promise<void> {
    this.enter('CreateRoute');
    const t = this.table('CreateRoute', table);
    if (t.has(cidr))
      throw rejected('CreateRoute', 'RouteAlreadyExists', `The route identified by ${cidr} already exists.`);
    t.set(cidr, eni);
  }

  async replaceRoute(table: string, cidr: string, eni: string): Promise<void> {
    this.enter('ReplaceRoute');
    const t = this.table('ReplaceRoute', table);
    if (!t.has(cidr))
      throw rejected(
        'ReplaceRoute',
        'InvalidParameterValue',
        `There is no route defined for '${cidr}' in the route table. Use CreateRoute instead.`,
      );
    t.set(cidr, eni);
  }

  async createTags(resources: string[], tags: Record<string, string>): Promise<void> {
    this.enter('CreateTags');
    for (const r of resources) this.tags.set(r, { ...this.tags.get(r), ...tags });
  }

  async describeAddress(): Promise<undefined> {
    this.enter('DescribeAddresses');
    return undefined;
  }

  async associateAddress(): Promise<void> {
    this.enter('AssociateAddress');
  }

  async describeNetworkInterface(): Promise<undefined> {
    this.enter('DescribeNetworkInterfaces');
    return undefined;
  }

  async assignPrivateIp(): Promise<void> {
    this.enter('AssignPrivateIpAddresses');
  }
}

/** A rejection as classifyEc2Error words an EC2 error answer. */
function rejected(op: string, code: string, text: string): Ec2Error {
  return new Ec2Error(op, 'rejected', `EC2 ${op} was rejected: ${code}: ${text}`, code);
}
