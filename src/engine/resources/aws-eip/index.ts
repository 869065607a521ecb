import { preloadEc2Sdk } from '../../../cloud/aws/ec2-api.js';
import { CloudResource, type CloudTarget } from '../aws/cloud-resource.js';
import type { ResourcePlugin } from '../types.js';
import { type AwsEipParams, awsEipParams } from './params.js';

/**
 * An Elastic IP associated with the active node's ENI. AssociateAddress with
 * AllowReassociation moves it in one call from wherever it is (EC2 API reference). No
 * local address: EC2 translates the public address to the ENI's private one.
 */
export function eipTarget(allocationId: string, privateIp: Record<string, string> | undefined): CloudTarget {
  return {
    what: `Elastic IP ${allocationId}`,
    async inspect(api, eni, node, signal) {
      const address = await api.describeAddress(allocationId, signal);
      if (!address) throw new Error(`Elastic IP ${allocationId} was not found; check the id and the region`);
      const wantIp = privateIp?.[node];
      const here =
        address.NetworkInterfaceId === eni && (wantIp === undefined || address.PrivateIpAddress === wantIp);
      return here ? [] : [{ id: allocationId, found: address.NetworkInterfaceId ?? 'not associated' }];
    },
    async repair(api, eni, node, _drifts, signal) {
      await api.associateAddress(allocationId, eni, privateIp?.[node], signal);
    },
  };
}

export const awsEipResource: ResourcePlugin<AwsEipParams> = {
  type: 'aws-eip',
  description: 'An Elastic IP moved to the active node’s ENI (AssociateAddress with AllowReassociation).',
  params: awsEipParams,
  uniqueAcrossGroups: ['allocationId'],
  paramModes: { callTimeout: 'live', reconcile: 'live', onApiError: 'live', timeout: 'live' },
  create: (name, p) => {
    preloadEc2Sdk();
    return new CloudResource({ name, target: eipTarget(p.allocationId, p.privateIp), settings: p });
  },
};
