import type { RouteTable } from '@aws-sdk/client-ec2';
import type { Ec2Api } from '../../../cloud/aws/ec2-api.js';
import { Ec2Error } from '../../../cloud/aws/ec2-error.js';
import { HaloError } from '../../../errors.js';
import type { CloudTarget, Drift } from '../aws/cloud-resource.js';

/**
 * `VIP/32 → ENI` in every listed route table (CLUSTERPRO's AWS virtual IP resource, report
 * 003). A write has no precondition in EC2 — last writer wins — so only the lease holder
 * calls this, and it reads before it writes so a settled table costs no write at all.
 */

const NO_ROUTE = 'no route';

/** Tag keys per VIP: several VIPs (groups) may share one route table. */
export function ownerTagKeys(ip: string): { owner: string; term: string } {
  return { owner: `halo:${ip}:owner`, term: `halo:${ip}:term` };
}

export function routeTarget(ip: string, tables: readonly string[]): CloudTarget {
  const cidr = `${ip}/32`;
  return {
    what: `route ${cidr} in ${tables.join(', ')}`,

    async inspect(api, eni, _node, signal) {
      const found = await api.describeRouteTables([...tables], signal);
      return tables.flatMap((id) => driftOf(found, id, cidr, eni));
    },

    async repair(api, eni, _node, drifts, signal) {
      const results = await Promise.allSettled(drifts.map((d) => pointRoute(api, d, cidr, eni, signal)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },

    async stamp(api, stamp, signal) {
      const keys = ownerTagKeys(ip);
      await api.createTags([...tables], { [keys.owner]: stamp.node, [keys.term]: stamp.term }, signal);
    },
  };
}

/** What `id` sends `cidr` to, when that is not a working route to `eni`. */
export function driftOf(found: RouteTable[], id: string, cidr: string, eni: string): Drift[] {
  const table = found.find((t) => t.RouteTableId === id);
  if (!table) {
    throw new HaloError(
      'HALO_E_CLOUD_NOT_FOUND',
      `route table ${id} was not returned by DescribeRouteTables; check the id and the region`,
      { routeTable: id },
    );
  }
  const route = (table.Routes ?? []).find((r) => r.DestinationCidrBlock === cidr);
  if (!route) return [{ id, found: NO_ROUTE }];
  const via =
    route.NetworkInterfaceId ??
    route.InstanceId ??
    route.GatewayId ??
    route.NatGatewayId ??
    route.TransitGatewayId ??
    route.VpcPeeringConnectionId ??
    'another target';
  if (via !== eni) return [{ id, found: via }];
  if (route.State === 'blackhole') {
    // Pointing it at the same ENI again would not help: the ENI is detached or its instance stopped.
    throw new HaloError(
      'HALO_E_CLOUD_ROUTE_BLACKHOLE',
      `route ${cidr} in ${id} points at ${eni} but is a blackhole: the ENI is not attached to a running instance`,
      { routeTable: id, eni },
    );
  }
  return [];
}

async function pointRoute(api: Ec2Api, drift: Drift, cidr: string, eni: string, signal: AbortSignal) {
  const table = drift.id;
  if (drift.found === NO_ROUTE) {
    try {
      await api.createRoute(table, cidr, eni, signal);
    } catch (err) {
      // Someone created it since we read: replace it instead (EC2 error RouteAlreadyExists).
      if (!(err instanceof Ec2Error && err.awsCode === 'RouteAlreadyExists')) throw err;
      await api.replaceRoute(table, cidr, eni, signal);
    }
    return;
  }
  try {
    await api.replaceRoute(table, cidr, eni, signal);
  } catch (err) {
    // Deleted since we read: "There is no route defined for … Use CreateRoute instead."
    if (
      !(err instanceof Ec2Error && err.awsCode === 'InvalidParameterValue' && /CreateRoute/.test(err.message))
    )
      throw err;
    await api.createRoute(table, cidr, eni, signal);
  }
}
