import { preloadEc2Sdk } from '../../../cloud/aws/ec2-api.js';
import { CloudResource, type CloudTarget } from '../aws/cloud-resource.js';
import type { ResourcePlugin } from '../types.js';
import { type AwsSecondaryIpParams, awsSecondaryIpParams } from './params.js';

/**
 * A secondary private IP assigned to the active node's ENI. AssignPrivateIpAddresses with
 * AllowReassignment takes it from the other ENI in one call (EC2 API reference); both ENIs
 * must be in the same subnet, so this suits nodes in one availability zone.
 */
export function secondaryIpTarget(ip: string): CloudTarget {
  return {
    what: `secondary IP ${ip}`,
    async inspect(api, eni, _node, signal) {
      const ni = await api.describeNetworkInterface(eni, signal);
      if (!ni) throw new Error(`ENI ${eni} was not found; check the id and the region`);
      const here = (ni.PrivateIpAddresses ?? []).some((p) => p.PrivateIpAddress === ip);
      return here ? [] : [{ id: eni, found: 'not assigned' }];
    },
    async repair(api, eni, _node, _drifts, signal) {
      await api.assignPrivateIp(eni, ip, signal);
    },
  };
}

export const awsSecondaryIpResource: ResourcePlugin<AwsSecondaryIpParams> = {
  type: 'aws-secondary-ip',
  description:
    'A secondary private IP moved to the active node’s ENI (AssignPrivateIpAddresses with AllowReassignment) and held locally.',
  params: awsSecondaryIpParams,
  uniqueAcrossGroups: ['ip'],
  paramModes: { callTimeout: 'live', reconcile: 'live', onApiError: 'live', timeout: 'live' },
  create: (name, p) => {
    preloadEc2Sdk();
    return new CloudResource({
      name,
      target: secondaryIpTarget(p.ip),
      settings: p,
      local: p.localAddress ? { ip: p.ip, prefix: p.prefix, device: p.device } : undefined,
    });
  },
};
