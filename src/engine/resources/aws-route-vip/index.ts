import { preloadEc2Sdk } from '../../../cloud/aws/ec2-api.js';
import { CloudResource } from '../aws/cloud-resource.js';
import type { ResourcePlugin } from '../types.js';
import { type AwsRouteVipParams, awsRouteVipParams } from './params.js';
import { routeTarget } from './route-target.js';

function validateRouteVip(params: AwsRouteVipParams): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  const seen = new Set<string>();
  params.routeTables.forEach((id, i) => {
    if (seen.has(id)) problems.push([`routeTables[${i}]`, `route table ${id} is listed twice`]);
    seen.add(id);
  });
  if (params.callTimeout * 2 > params.timeout.check) {
    problems.push(['timeout.check', 'expected at least twice callTimeout (a check reads, then may write)']);
  }
  return problems;
}

export const awsRouteVipResource: ResourcePlugin<AwsRouteVipParams> = {
  type: 'aws-route-vip',
  description:
    'A VIP outside the VPC CIDR: every listed route table sends VIP/32 to the active node’s ENI (create or replace), kept there by a reconcile loop.',
  params: awsRouteVipParams,
  validate: validateRouteVip,
  uniqueAcrossGroups: ['ip'],
  nodeKeyed: ['eni'],
  paramModes: { callTimeout: 'live', reconcile: 'live', onApiError: 'live', timeout: 'live' },
  create: (name, p) => {
    preloadEc2Sdk();
    return new CloudResource({
      name,
      target: routeTarget(p.ip, p.routeTables),
      settings: p,
      local: p.localAddress ? { ip: p.ip, prefix: 32, device: p.device } : undefined,
    });
  },
};
