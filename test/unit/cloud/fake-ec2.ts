import type { RouteTable } from '@aws-sdk/client-ec2';
import type { Ec2Api } from '../../../src/cloud/aws/ec2-api.js';

/**
 * An in-memory EC2 with just route tables, for unit tests of the AWS resources. `fail`
 * makes every call throw the given error (an unreachable or rejecting API); `calls`
 * records what was called, in order.
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

  private table(id: string): Map<string, string> {
    const t = this.tables.get(id);
    if (!t) throw new Error(`no table ${id}`);
    return t;
  }

  async describeRouteTables(ids: string[]): Promise<RouteTable[]> {
    this.enter('DescribeRouteTables');
    return ids
      .filter((id) => this.tables.has(id))
      .map((id) => ({
        RouteTableId: id,
        Routes: [...this.table(id)].map(([cidr, eni]) => ({
          DestinationCidrBlock: cidr,
          NetworkInterfaceId: eni,
          State: 'active' as const,
        })),
      }));
  }

  async createRoute(table: string, cidr: string, eni: string): Promise<void> {
    this.enter('CreateRoute');
    this.table(table).set(cidr, eni);
  }

  async replaceRoute(table: string, cidr: string, eni: string): Promise<void> {
    this.enter('ReplaceRoute');
    this.table(table).set(cidr, eni);
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
